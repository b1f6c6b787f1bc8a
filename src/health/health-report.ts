import type { EnvoyHealth, EvaluatedEndpoint, PanicLevel } from './cluster-evaluation.js';
import type { ClusterState } from './cluster-state.js';
import type { HealthMonitor } from './health-monitor.js';
import type { HealthReason, HealthStatus } from './health-status.js';
import type { CheckRun, ProbeRound } from './probe-round.js';

/** The last probe round of an endpoint, as `/health` shows it. */
export interface ProbeReport {
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** The round's own verdict, before thresholds. */
  readonly status: HealthStatus;
  readonly checks: readonly CheckRun[];
  readonly queueDepth?: number;
}

/** One endpoint on `/health`. */
export interface EndpointReport {
  /** `address:port`, also the breaker name that feeds it. */
  readonly endpoint: string;
  readonly priority: number;
  /** The published status and every reason for it. */
  readonly status: HealthStatus;
  readonly reasons: readonly HealthReason[];
  /** What Envoy receives. */
  readonly published: { readonly healthStatus: EnvoyHealth; readonly weight: number };
  readonly lastProbe?: ProbeReport;
  /** ISO 8601 end of the last round whose own verdict was HEALTHY. */
  readonly lastHealthyAt?: string;
  /** Warmth baseline latency; absent while learning or without warmth detection. */
  readonly baselineMs?: number;
  readonly cold: boolean;
}

/** One cluster on `/health`. */
export interface ClusterReport {
  readonly cluster: string;
  readonly endpoints: readonly EndpointReport[];
  /** Per priority: routable endpoints and whether Envoy's panic threshold is crossed. */
  readonly panic: readonly PanicLevel[];
}

/** Every configured cluster's report, in config order. */
export function healthReport(monitor: HealthMonitor): ClusterReport[] {
  return monitor.allEvaluations().flatMap((evaluation) => {
    const report = clusterReport(monitor, evaluation.cluster);
    return report ? [report] : [];
  });
}

/** One cluster's report; undefined when no such cluster is configured. */
export function clusterReport(monitor: HealthMonitor, name: string): ClusterReport | undefined {
  const evaluation = monitor.evaluation(name);
  const state = monitor.cluster(name);
  if (!evaluation || !state) return undefined;

  return {
    cluster: name,
    endpoints: evaluation.endpoints.map((endpoint) => endpointReport(state, endpoint)),
    panic: evaluation.panic,
  };
}

function endpointReport(state: ClusterState, endpoint: EvaluatedEndpoint): EndpointReport {
  const health = state.endpoint(endpoint.config.key);
  const last = health?.lastRound;
  const lastHealthy = health?.lastHealthyAtWallMs;

  return {
    endpoint: endpoint.config.key,
    priority: endpoint.config.priority,
    status: endpoint.status,
    reasons: endpoint.reasons,
    published: { healthStatus: endpoint.envoyHealth, weight: endpoint.weight },
    lastProbe: last && probeReport(last),
    lastHealthyAt: lastHealthy === undefined ? undefined : new Date(lastHealthy).toISOString(),
    baselineMs: roundMs(health?.warmth.baselineMs),
    cold: health?.isCold ?? false,
  };
}

function probeReport(round: ProbeRound): ProbeReport {
  return {
    startedAt: new Date(round.startedAtWallMs).toISOString(),
    finishedAt: new Date(round.finishedAtWallMs).toISOString(),
    durationMs: roundMs(round.durationMs) ?? 0,
    status: round.verdict.status,
    checks: round.checks.map((run) => ({ ...run, latencyMs: roundMs(run.latencyMs) })),
    queueDepth: round.queueDepth,
  };
}

function roundMs(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}
