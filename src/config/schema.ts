import { z } from 'zod';

import { budgetsNeedUsage, budgetsSchema } from '../budget/budget-schema.js';
import { costAttributionSchema } from '../cost/pricing-schema.js';
import { clustersSchema } from '../health/health-schema.js';
import { tenantsSchema } from '../tenant/tenant-schema.js';
import { usageSchema } from '../usage/usage-schema.js';
import { wholeNumber } from './schema-helpers.js';
import { secretSourceSchema } from './secret-source.js';

export { wholeNumber };

/**
 * The YAML file's schema. Every object is strict (an unknown key is an error,
 * so a typo never silently falls back to a default), every field documents
 * itself, and defaults are filled here once.
 */

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` or `[ipv6]:port`, port 0–65535 (0 picks a free port). */
export const listenAddress = z
  .string()
  .regex(ADDRESS, 'expected host:port, e.g. 127.0.0.1:50051 or [::1]:50051')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, {
    message: 'port must be between 0 and 65535',
  });

/** A status spec: an exact code (`503`), a class (`5xx`) or a range (`500-504`). */
export const statusSpec = z
  .union([z.number(), z.string()])
  .transform((value) => String(value).trim().toLowerCase())
  .refine(isStatusSpec, {
    message: 'expected a status 100-599 like 503, a class like 5xx, or a range like 500-504',
  });

function isStatusSpec(spec: string): boolean {
  if (/^[1-5]xx$/.test(spec)) return true;

  const match = /^(\d{3})(?:-(\d{3}))?$/.exec(spec);
  if (!match) return false;
  const low = Number(match[1]);
  const high = Number(match[2] ?? match[1]);
  return low >= 100 && high <= 599 && low <= high;
}

const filePath = (whenMissing: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? whenMissing : 'expected a path') })
    .min(1, 'expected a path');

const tlsSchema = z
  .strictObject({
    /** PEM certificate chain served on the gRPC port. */
    cert_file: filePath('cert_file (the PEM certificate) is required when tls is set'),
    /** PEM private key for `cert_file`. */
    key_file: filePath('key_file (the PEM private key) is required when tls is set'),
    /** PEM bundle of CAs that sign client certificates (enables mTLS). */
    client_ca_file: filePath('expected a path').optional(),
    /** Reject clients that present no certificate signed by `client_ca_file`. */
    require_client_cert: z.boolean().default(false),
  })
  .refine((tls) => !tls.require_client_cert || tls.client_ca_file !== undefined, {
    message: 'require_client_cert needs client_ca_file: the CAs that sign client certificates',
    path: ['client_ca_file'],
  });

const adminAuthSchema = z.strictObject({
  /**
   * Bearer token the admin controls (every POST) require; without one they
   * are refused unless the admin port is on loopback. Unset: the
   * TOLLGATE_ADMIN_TOKEN environment variable, when set.
   */
  token: secretSourceSchema.optional(),
  /** Require the token for reads too (`/metrics`, `/status`, ...); probes stay open. */
  protect_reads: z.boolean().default(false),
});

const serverSchema = z.strictObject({
  /** Where the gRPC services (ext_proc, health) listen. */
  grpc_address: listenAddress.default('127.0.0.1:50051'),
  /** Where the admin HTTP port (metrics, status, breaker controls) listens. */
  admin_address: listenAddress.default('127.0.0.1:9464'),
  /** On SIGTERM/SIGINT, how long streams in flight may take to finish. */
  drain_timeout_seconds: z
    .number()
    .positive('must be more than 0')
    .max(3600, 'must be at most 3600')
    .default(15),
  /** The largest gRPC message accepted or sent. Envoy's body buffer is 1 MiB by default. */
  max_message_bytes: wholeNumber(64 * 1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
  /** TLS for the gRPC port; plaintext when absent. */
  tls: tlsSchema.optional(),
  /** Who may use the admin port; see `admin-auth.ts`. */
  admin_auth: adminAuthSchema.prefault({}),
});

const loggingSchema = z.strictObject({
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const UPSTREAM_SOURCE = /^(attribute:[\w.-]+|header:[a-z0-9!#$%&'*+.^_`|~-]+|authority)$/;

const upstreamSchema = z.strictObject({
  /**
   * Where a request's upstream name is read from, first match wins:
   * `attribute:NAME` (an Envoy attribute listed in the filter's
   * `request_attributes`, e.g. `xds.cluster_name`), `header:NAME` (lower case),
   * or `authority`.
   */
  sources: z
    .array(
      z
        .string()
        .regex(UPSTREAM_SOURCE, 'expected attribute:NAME, header:NAME (lower case) or authority'),
    )
    .min(1)
    .default(['attribute:xds.cluster_name', 'header:x-tollgate-upstream', 'authority']),
});

const breakerFields = {
  /** Consecutive failures that open a closed breaker. */
  failure_threshold: wholeNumber(1, 1_000_000),
  /** Consecutive trial successes that close a half-open breaker. */
  success_threshold: wholeNumber(1, 1_000_000),
  /** How long an open breaker rejects before it admits trials. */
  timeout_seconds: z.number().positive('must be more than 0').max(86_400, 'must be at most 86400'),
  /** How many trial requests a half-open breaker lets through at once. */
  half_open_max_requests: wholeNumber(1, 10_000),
  /** Response statuses that count as failures; any other status is a success. */
  failure_statuses: z.array(statusSpec).min(1),
};

const breakerDefaultsSchema = z.strictObject({
  failure_threshold: breakerFields.failure_threshold.default(5),
  success_threshold: breakerFields.success_threshold.default(2),
  timeout_seconds: breakerFields.timeout_seconds.default(30),
  half_open_max_requests: breakerFields.half_open_max_requests.default(1),
  failure_statuses: breakerFields.failure_statuses.default(['5xx']),
});

const breakerOverrideSchema = z.strictObject({
  failure_threshold: breakerFields.failure_threshold.optional(),
  success_threshold: breakerFields.success_threshold.optional(),
  timeout_seconds: breakerFields.timeout_seconds.optional(),
  half_open_max_requests: breakerFields.half_open_max_requests.optional(),
  failure_statuses: breakerFields.failure_statuses.optional(),
});

const circuitBreakersSchema = z.strictObject({
  /** Turns breaker enforcement on or off as a whole. */
  enabled: z.boolean().default(true),
  /** Settings for every upstream without its own entry. */
  defaults: breakerDefaultsSchema.prefault({}),
  /** Per-upstream overrides, keyed by upstream name; unset fields inherit `defaults`. */
  upstreams: z
    .record(
      z.string().min(1, 'an upstream name cannot be empty'),
      // `name:` with nothing under it means "use the defaults".
      breakerOverrideSchema.nullable().transform((override) => override ?? {}),
    )
    .default({}),
  /**
   * The most breakers created on the fly for upstreams that have no entry.
   * Bounds memory and metric cardinality when the upstream comes from a
   * client-controlled source such as `:authority`; past it, requests to new
   * upstreams pass unguarded and are counted.
   */
  max_dynamic_breakers: wholeNumber(0, 100_000).default(256),
});

/**
 * Top-level keys starting with `x-` are free for YAML anchors that other
 * sections merge in (`<<: *defaults`); they are not config.
 */
function withoutExtensionKeys(file: unknown): unknown {
  if (!file || typeof file !== 'object' || Array.isArray(file)) return file;
  return Object.fromEntries(Object.entries(file).filter(([key]) => !key.startsWith('x-')));
}

/** The whole YAML file. */
export const configSchema = z.preprocess(
  withoutExtensionKeys,
  z
    .strictObject({
      server: serverSchema.prefault({}),
      logging: loggingSchema.prefault({}),
      upstream: upstreamSchema.prefault({}),
      circuit_breakers: circuitBreakersSchema.prefault({}),
      usage: usageSchema.prefault({}),
      cost_attribution: costAttributionSchema.prefault({}),
      tenants: tenantsSchema.prefault({}),
      budgets: budgetsSchema.prefault({}),
      /** Inference backends probed and published to Envoy over EDS. */
      clusters: clustersSchema,
    })
    .superRefine(budgetsNeedUsage),
);

/** The validated file, with defaults filled in. */
export type ConfigFile = z.output<typeof configSchema>;

/** Settings of one breaker as written in the file, after defaults. */
export type BreakerFileSettings = z.output<typeof breakerDefaultsSchema>;
