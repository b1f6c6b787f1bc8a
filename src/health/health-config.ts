import path from 'node:path';

import type { ClusterFile, ClustersFile } from './health-schema.js';

/** An Envoy locality. */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** One backend of a cluster. */
export interface EndpointConfig {
  /**
   * `address:port` (`[address]:port` for IPv6): the endpoint's name on
   * `/health`, in metrics, and the breaker key that feeds its health.
   */
  readonly key: string;
  /** The IP address Envoy connects to and probes go to. */
  readonly address: string;
  /** The backend's port. */
  readonly port: number;
  /** `https`: probes use TLS. */
  readonly scheme: 'http' | 'https';
  /** Probe Host header and TLS name; sent to Envoy as the endpoint's hostname. */
  readonly hostname?: string;
  /** Where the endpoint runs, for locality-aware load balancing. */
  readonly locality?: Locality;
  /** Envoy priority; 0 is the highest. */
  readonly priority: number;
  /** `load_balancing_weight` when healthy. */
  readonly weight: number;
}

/** A minimal completion request, judged by status, body shape and latency. */
export interface InferenceProbeSettings {
  /** Completion path; one containing `chat` gets a chat request. */
  readonly endpoint: string;
  /** The model asked for. */
  readonly model: string;
  /** The prompt, or the one user message of a chat request. */
  readonly prompt: string;
  /** `max_tokens` of the request. */
  readonly maxTokens: number;
  /** Bounds the whole exchange. */
  readonly timeoutMs: number;
  /** A slower answer fails the probe. */
  readonly maxLatencyMs?: number;
}

/** GET a status document per model and compare one field. */
export interface ModelStatusSettings {
  /** Path with `{model}` in it. */
  readonly endpointPattern: string;
  /** Every model that must report `expectedStatus`. */
  readonly models: readonly string[];
  /** The value that means ready. */
  readonly expectedStatus: string;
  /** Dotted path to the status in the JSON answer. */
  readonly statusField: string;
  /** Bounds each request. */
  readonly timeoutMs: number;
}

/** Where the queue depth is read and what it means. */
export interface QueueDepthSettings {
  /** Response header carrying the depth (lower case). */
  readonly header?: string;
  /** Dotted path to the depth in a JSON body. */
  readonly bodyField?: string;
  /** Own endpoint; unset: the inference probe's response is read. */
  readonly endpoint?: string;
  /** A depth above this is DEGRADED. */
  readonly degradedThreshold: number;
  /** A depth above this is UNHEALTHY. */
  readonly unhealthyThreshold: number;
  /** Bounds the request to `endpoint`. */
  readonly timeoutMs: number;
}

/** What a cold model does to the endpoint's status. */
export type ColdAction = 'log_only' | 'mark_degraded' | 'mark_unhealthy';

/** Latency baseline and idle detection. */
export interface WarmthSettings {
  /** Successful probes averaged into the baseline (and the moving average's window). */
  readonly sampleSize: number;
  /** A probe slower than this many baselines is a cold answer. */
  readonly coldThresholdMultiplier: number;
  /** A success after this long without one is a cold start. */
  readonly idleColdTimeoutMs: number;
  /** What a cold endpoint's status becomes. */
  readonly coldAction: ColdAction;
}

/** TLS for probes of `https` endpoints. */
export interface ProbeTlsSettings {
  /** Absolute path of the PEM bundle that signs the backends' certificates. */
  readonly caFile?: string;
  /** TLS server name; the endpoint's hostname when unset. */
  readonly serverName?: string;
  /** Skip certificate verification (test rigs only). */
  readonly insecureSkipVerify: boolean;
}

/** The checks of one cluster and their timing. */
export interface CheckSettings {
  /** Time from the end of one probe round of an endpoint to the start of the next. */
  readonly intervalMs: number;
  /** Random extra delay up to this much, added to each interval. */
  readonly jitterMs: number;
  /** Random extra delay up to this percentage of the interval, added to each interval. */
  readonly jitterPercent: number;
  /** Default bound of each probe request, whole exchange. */
  readonly timeoutMs: number;
  /** Consecutive better rounds that move an endpoint to a better status. */
  readonly healthyThreshold: number;
  /** Consecutive worse rounds that move an endpoint to a worse status. */
  readonly unhealthyThreshold: number;
  /** Largest probe response body read. */
  readonly maxBodyBytes: number;
  /** Extra probe request headers; values are secrets and never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** TLS settings for `https` endpoints. */
  readonly tls?: ProbeTlsSettings;
  /** A minimal completion. */
  readonly inferenceProbe?: InferenceProbeSettings;
  /** Per-model status documents. */
  readonly modelStatus?: ModelStatusSettings;
  /** The backend's queue depth. */
  readonly queueDepth?: QueueDepthSettings;
  /** Cold-model detection from inference latency. */
  readonly warmth?: WarmthSettings;
}

/** One cluster published over EDS. */
export interface ClusterHealthConfig {
  /** The EDS resource name Envoy asks for. */
  readonly name: string;
  /** The backends, in config order. */
  readonly endpoints: readonly EndpointConfig[];
  /** What is probed, and how often. */
  readonly checks: CheckSettings;
  /** A DEGRADED endpoint's weight is its weight times this (at least 1). */
  readonly degradedWeightFactor: number;
  /** The Envoy health status DEGRADED endpoints are published with. */
  readonly degradedHealthStatus: 'HEALTHY' | 'DEGRADED';
  /** Envoy's panic threshold for the cluster; below it tollgate warns. */
  readonly panicThresholdPercent: number;
}

/** Turns the validated `clusters:` section into runtime settings. */
export function compileClusters(
  file: ClustersFile,
  configFile: string,
): readonly ClusterHealthConfig[] {
  return file.map((cluster) => compileCluster(cluster, configFile));
}

/** The breaker key (and `/health` name) of an endpoint: `address:port`, IPv6 in brackets. */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function compileCluster(cluster: ClusterFile, configFile: string): ClusterHealthConfig {
  const checks = cluster.checks;
  const timeoutMs = checks.timeout;
  const ownTimeout = (secs: number | undefined) =>
    secs === undefined ? timeoutMs : Math.round(secs * 1000);

  const probe = checks.inference_probe;
  const status = checks.model_status;
  const queue = checks.queue_depth;
  const warmth = checks.warmth_detection;
  const tls = checks.tls;

  return {
    name: cluster.name,
    endpoints: cluster.endpoints.map((endpoint) => ({
      key: endpointKey(endpoint.address, endpoint.port),
      address: endpoint.address,
      port: endpoint.port,
      scheme: endpoint.scheme,
      hostname: endpoint.hostname,
      locality: endpoint.locality && {
        region: endpoint.locality.region,
        zone: endpoint.locality.zone,
        subZone: endpoint.locality.sub_zone,
      },
      priority: endpoint.priority,
      weight: endpoint.weight,
    })),
    checks: {
      intervalMs: checks.interval,
      jitterMs: checks.interval_jitter,
      jitterPercent: checks.interval_jitter_percent,
      timeoutMs,
      healthyThreshold: checks.healthy_threshold,
      unhealthyThreshold: checks.unhealthy_threshold,
      maxBodyBytes: checks.max_body_bytes,
      headers: checks.headers,
      tls: tls && {
        caFile: tls.ca_file && path.resolve(path.dirname(configFile), tls.ca_file),
        serverName: tls.server_name,
        insecureSkipVerify: tls.insecure_skip_verify,
      },
      inferenceProbe: probe && {
        endpoint: probe.endpoint,
        model: probe.model,
        prompt: probe.prompt,
        maxTokens: probe.max_tokens,
        timeoutMs: ownTimeout(probe.timeout_secs),
        maxLatencyMs: probe.max_latency_ms,
      },
      modelStatus: status && {
        endpointPattern: status.endpoint_pattern,
        models: status.models,
        expectedStatus: status.expected_status,
        statusField: status.status_field,
        timeoutMs: ownTimeout(status.timeout_secs),
      },
      queueDepth: queue && {
        header: queue.header,
        bodyField: queue.body_field,
        endpoint: queue.endpoint,
        degradedThreshold: queue.degraded_threshold,
        unhealthyThreshold: queue.unhealthy_threshold,
        timeoutMs: ownTimeout(queue.timeout_secs),
      },
      warmth: warmth && {
        sampleSize: warmth.sample_size,
        coldThresholdMultiplier: warmth.cold_threshold_multiplier,
        idleColdTimeoutMs: warmth.idle_cold_timeout_secs * 1000,
        coldAction: warmth.cold_action,
      },
    },
    degradedWeightFactor: cluster.degraded_weight_factor,
    degradedHealthStatus: cluster.degraded_health_status === 'degraded' ? 'DEGRADED' : 'HEALTHY',
    panicThresholdPercent: cluster.panic_threshold_percent,
  };
}

/**
 * Whether a cluster probes anything; without checks its endpoints are
 * HEALTHY unless a breaker says otherwise.
 */
export function hasChecks(checks: CheckSettings): boolean {
  return Boolean(checks.inferenceProbe || checks.modelStatus || checks.queueDepth);
}
