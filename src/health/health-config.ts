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
  readonly address: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  readonly hostname?: string;
  readonly locality?: Locality;
  readonly priority: number;
  /** `load_balancing_weight` when healthy. */
  readonly weight: number;
}

/** A minimal completion request, judged by status, body shape and latency. */
export interface InferenceProbeSettings {
  readonly endpoint: string;
  readonly model: string;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly timeoutMs: number;
  readonly maxLatencyMs?: number;
}

/** GET a status document per model and compare one field. */
export interface ModelStatusSettings {
  readonly endpointPattern: string;
  readonly models: readonly string[];
  readonly expectedStatus: string;
  readonly statusField: string;
  readonly timeoutMs: number;
}

/** Where the queue depth is read and what it means. */
export interface QueueDepthSettings {
  readonly header?: string;
  readonly bodyField?: string;
  /** Own endpoint; unset: the inference probe's response is read. */
  readonly endpoint?: string;
  readonly degradedThreshold: number;
  readonly unhealthyThreshold: number;
  readonly timeoutMs: number;
}

/** What a cold model does to the endpoint's status. */
export type ColdAction = 'log_only' | 'mark_degraded' | 'mark_unhealthy';

/** Latency baseline and idle detection. */
export interface WarmthSettings {
  readonly sampleSize: number;
  readonly coldThresholdMultiplier: number;
  readonly idleColdTimeoutMs: number;
  readonly coldAction: ColdAction;
}

/** TLS for probes of `https` endpoints. */
export interface ProbeTlsSettings {
  readonly caFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

/** The checks of one cluster and their timing. */
export interface CheckSettings {
  readonly intervalMs: number;
  readonly jitterMs: number;
  readonly jitterPercent: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly maxBodyBytes: number;
  /** Extra probe request headers; values are secrets and never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly tls?: ProbeTlsSettings;
  readonly inferenceProbe?: InferenceProbeSettings;
  readonly modelStatus?: ModelStatusSettings;
  readonly queueDepth?: QueueDepthSettings;
  readonly warmth?: WarmthSettings;
}

/** One cluster published over EDS. */
export interface ClusterHealthConfig {
  /** The EDS resource name Envoy asks for. */
  readonly name: string;
  readonly endpoints: readonly EndpointConfig[];
  readonly checks: CheckSettings;
  readonly degradedWeightFactor: number;
  /** The Envoy health status DEGRADED endpoints are published with. */
  readonly degradedHealthStatus: 'HEALTHY' | 'DEGRADED';
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
