import { isIP } from 'node:net';

import { z } from 'zod';

import { wholeNumber } from '../config/schema-helpers.js';

/**
 * The `clusters:` section: the inference backends tollgate probes and
 * publishes to Envoy over EDS. Every object is strict and every default is
 * filled here; cross-field rules (unique names, what a check needs) are
 * refinements with the path of the offending key.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * A duration in Envoy's spelling (`500ms`, `10s`, `1.5m`) or a number of
 * seconds. Parsed to whole milliseconds.
 */
export function duration(minMs: number, maxMs: number) {
  return z
    .union([z.number(), z.string()], { error: 'expected a duration such as 500ms, 10s or 1m' })
    .transform((value, context) => {
      const ms = toMilliseconds(value);
      if (ms === undefined) {
        context.addIssue({
          code: 'custom',
          message: 'expected a duration such as 500ms, 10s or 1m',
        });
        return z.NEVER;
      }
      if (ms < minMs || ms > maxMs) {
        context.addIssue({
          code: 'custom',
          message: `must be between ${minMs} ms and ${maxMs / 1000} s`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

function toMilliseconds(value: number | string): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) ? Math.round(value * 1000) : undefined;

  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000));
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const DOTTED_FIELD = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const urlPath = z
  .string()
  .regex(/^\/\S*$/, 'expected a path starting with /, e.g. /v1/completions');
const dottedField = z
  .string()
  .regex(DOTTED_FIELD, 'expected a dotted field such as status or data.0.state');
const checkTimeoutSecs = z
  .number()
  .positive('must be more than 0')
  .max(600, 'must be at most 600')
  .optional();

const localitySchema = z.strictObject({
  /** Envoy locality region, e.g. `eu-west-1`. */
  region: z.string().default(''),
  /** Envoy locality zone. */
  zone: z.string().default(''),
  /** Envoy locality sub-zone. */
  sub_zone: z.string().default(''),
});

const endpointSchema = z.strictObject({
  /** An IP address: EDS carries addresses, and Envoy does not resolve names it receives. */
  address: z.string().refine((value) => isIP(value) !== 0, {
    message: 'expected an IPv4 or IPv6 address (EDS endpoints are not resolved by Envoy)',
  }),
  /** The backend's port. */
  port: wholeNumber(1, 65535),
  /** How probes talk to it: `http`, or `https` (TLS, verified against `checks.tls`). */
  scheme: z.enum(['http', 'https']).default('http'),
  /** The probe's Host header and TLS name; sent to Envoy as the endpoint's hostname. */
  hostname: z.string().min(1).optional(),
  /** Where the endpoint runs, for Envoy's locality-aware load balancing. */
  locality: localitySchema.optional(),
  /** Envoy priority (0 is highest); priorities in a cluster must run 0, 1, 2, ... without gaps. */
  priority: wholeNumber(0, 127).default(0),
  /** `load_balancing_weight` when healthy. */
  weight: wholeNumber(1, 1_000_000).default(100),
});

const inferenceProbeSchema = z.strictObject({
  /** The completion endpoint; a path containing `chat` gets a chat request. */
  endpoint: urlPath.default('/v1/completions'),
  /** The model asked for. */
  model: z.string().min(1, 'expected a model name'),
  /** The prompt (or the one user message, for chat). */
  prompt: z.string().default('.'),
  /** `max_tokens` of the probe request. */
  max_tokens: wholeNumber(1, 4096).default(1),
  /** Timeout of this request; `checks.timeout` when unset. */
  timeout_secs: checkTimeoutSecs,
  /** A probe slower than this is a failure; unset: only the timeout applies. */
  max_latency_ms: wholeNumber(1, 600_000).optional(),
});

const modelStatusSchema = z.strictObject({
  /** Path with `{model}` in it, e.g. `/v1/models/{model}/status`. */
  endpoint_pattern: urlPath.refine((value) => value.includes('{model}'), {
    message: 'expected {model} somewhere in the path',
  }),
  /** The models that must all report `expected_status`. */
  models: z.array(z.string().min(1)).min(1, 'expected at least one model'),
  /** The value that means ready. */
  expected_status: z.string().min(1).default('ready'),
  /** Dotted path to the status in the JSON answer. */
  status_field: dottedField.default('status'),
  /** Timeout of each request; `checks.timeout` when unset. */
  timeout_secs: checkTimeoutSecs,
});

const queueDepthSchema = z
  .strictObject({
    /** Response header carrying the depth, e.g. `x-queue-depth`. */
    header: z.string().regex(HEADER_NAME, 'expected a lower-case header name').optional(),
    /** Dotted path to the depth in a JSON body. */
    body_field: dottedField.optional(),
    /** Own endpoint to GET; unset: read from the inference probe's response. */
    endpoint: urlPath.optional(),
    /** Depth above which the endpoint is DEGRADED. */
    degraded_threshold: wholeNumber(0, 1_000_000_000).default(100),
    /** Depth above which the endpoint is UNHEALTHY. */
    unhealthy_threshold: wholeNumber(0, 1_000_000_000).default(500),
    /** Timeout of the request to `endpoint`; `checks.timeout` when unset. */
    timeout_secs: checkTimeoutSecs,
  })
  .refine((queue) => queue.header || queue.body_field || queue.endpoint, {
    message: 'set header, body_field, or an endpoint whose body is the number',
  })
  .refine((queue) => queue.degraded_threshold <= queue.unhealthy_threshold, {
    message: 'degraded_threshold must not exceed unhealthy_threshold',
    path: ['degraded_threshold'],
  });

const warmthSchema = z.strictObject({
  /** Successful probes averaged into the first latency baseline. */
  sample_size: wholeNumber(1, 10_000).default(10),
  /** A probe slower than this many baselines means the model went cold. */
  cold_threshold_multiplier: z.number().min(1, 'must be at least 1').max(1000).default(2),
  /** With no successful inference for this long, the model is presumed cold. */
  idle_cold_timeout_secs: wholeNumber(1, 86_400 * 7).default(300),
  /** What a cold model does to the endpoint. */
  cold_action: z.enum(['log_only', 'mark_degraded', 'mark_unhealthy']).default('log_only'),
});

const probeTlsSchema = z.strictObject({
  /** PEM bundle that signs the backends' certificates; the system store when unset. */
  ca_file: z.string().min(1).optional(),
  /** TLS server name; the endpoint's hostname, else its address, when unset. */
  server_name: z.string().min(1).optional(),
  /** Skip certificate verification (test rigs only). */
  insecure_skip_verify: z.boolean().default(false),
});

const checksSchema = z.strictObject({
  /** Time between the end of one probe round of an endpoint and the start of the next. */
  interval: duration(50, 3_600_000).default(10_000),
  /** Random extra delay up to this much, added to each interval. */
  interval_jitter: duration(0, 3_600_000).default(0),
  /** Random extra delay up to this percentage of `interval`, added to each interval. */
  interval_jitter_percent: z.number().min(0).max(100).default(10),
  /** Bounds each probe request whole: connect, headers and body. */
  timeout: duration(10, 600_000).default(5000),
  /** Consecutive better rounds needed to move an endpoint to a better status. */
  healthy_threshold: wholeNumber(1, 100).default(2),
  /** Consecutive worse rounds needed to move an endpoint to a worse status. */
  unhealthy_threshold: wholeNumber(1, 100).default(3),
  /** Largest probe response body read; a longer one fails the probe. */
  max_body_bytes: wholeNumber(256, 16 * 1024 * 1024).default(64 * 1024),
  /** Extra request headers for every probe (an API key, for instance); never logged. */
  headers: z
    .record(z.string().regex(HEADER_NAME, 'expected a lower-case header name'), z.string())
    .default({}),
  /** TLS settings for endpoints with `scheme: https`. */
  tls: probeTlsSchema.optional(),
  inference_probe: inferenceProbeSchema.optional(),
  model_status: modelStatusSchema.optional(),
  queue_depth: queueDepthSchema.optional(),
  warmth_detection: warmthSchema.optional(),
});

const clusterSchema = z
  .strictObject({
    /** The EDS resource name: the cluster's name or its `eds_cluster_config.service_name`. */
    name: z.string().min(1, 'expected a cluster name'),
    /** The backends of this cluster. */
    endpoints: z.array(endpointSchema).min(1, 'expected at least one endpoint'),
    /** Probes and their timing; none: each endpoint is HEALTHY unless its breaker is open. */
    checks: checksSchema.prefault({}),
    /** A DEGRADED endpoint's weight is its weight times this (at least 1). */
    degraded_weight_factor: z.number().gt(0, 'must be more than 0').max(1).default(0.5),
    /**
     * How DEGRADED endpoints are published: `healthy` (routed, at the lowered
     * weight) or `degraded` (Envoy's DEGRADED: used only when healthy hosts are short).
     */
    degraded_health_status: z.enum(['healthy', 'degraded']).default('healthy'),
    /** Envoy's panic threshold for this cluster; below it tollgate warns. */
    panic_threshold_percent: z.number().min(0).max(100).default(50),
  })
  .superRefine((cluster, context) => {
    checkUniqueEndpoints(cluster.endpoints, context);
    checkPriorities(cluster.endpoints, context);
    checkCheckDependencies(cluster.checks, context);
  });

/** The `clusters:` section. */
export const clustersSchema = z
  .array(clusterSchema)
  .default([])
  .superRefine((clusters, context) => {
    const seen = new Set<string>();
    clusters.forEach((cluster, index) => {
      if (seen.has(cluster.name)) {
        context.addIssue({
          code: 'custom',
          message: `cluster "${cluster.name}" is listed twice`,
          path: [index, 'name'],
        });
      }
      seen.add(cluster.name);
    });
  });

/** The `clusters:` section as written, after defaults. */
export type ClustersFile = z.output<typeof clustersSchema>;

/** One cluster as written, after defaults. */
export type ClusterFile = ClustersFile[number];

type Context = z.RefinementCtx;
type EndpointFile = z.output<typeof endpointSchema>;

function checkUniqueEndpoints(endpoints: EndpointFile[], context: Context): void {
  const seen = new Set<string>();
  endpoints.forEach((endpoint, index) => {
    const key = `${endpoint.address}:${endpoint.port}`;
    if (seen.has(key)) {
      context.addIssue({
        code: 'custom',
        message: `endpoint ${key} is listed twice in this cluster`,
        path: ['endpoints', index, 'port'],
      });
    }
    seen.add(key);
  });
}

function checkPriorities(endpoints: EndpointFile[], context: Context): void {
  const priorities = new Set(endpoints.map((endpoint) => endpoint.priority));
  const highest = Math.max(...priorities);
  for (let priority = 0; priority < highest; priority++) {
    if (priorities.has(priority)) continue;

    context.addIssue({
      code: 'custom',
      message: `priorities must run 0, 1, 2, ... without gaps: none has priority ${priority}`,
      path: ['endpoints'],
    });
    return;
  }
}

function checkCheckDependencies(checks: z.output<typeof checksSchema>, context: Context): void {
  const needsProbe = (what: string, path: string[]) =>
    context.addIssue({
      code: 'custom',
      message: `${what} needs checks.inference_probe`,
      path: ['checks', ...path],
    });

  if (checks.warmth_detection && !checks.inference_probe) {
    needsProbe('warmth_detection measures inference latency, so it', ['warmth_detection']);
  }
  const queue = checks.queue_depth;
  if (queue && !queue.endpoint && !checks.inference_probe) {
    needsProbe('queue_depth without its own endpoint reads the probe response, so it', [
      'queue_depth',
    ]);
  }
}
