import type { BreakerStateKind } from '../breaker/breaker-state.js';
import { hasChecks, type ClusterHealthConfig, type EndpointConfig } from './health-config.js';
import { worse, type HealthReason, type HealthStatus, type Verdict } from './health-status.js';

/** The `health_status` Envoy receives for an endpoint. */
export type EnvoyHealth = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DEGRADED';

/** What is known about one endpoint when its cluster is evaluated. */
export interface EndpointInput {
  readonly config: EndpointConfig;
  /** The stable probe verdict; undefined before the first round (or with no checks). */
  readonly probe: Verdict | undefined;
  /** The state of the breaker named like the endpoint, if there is one. */
  readonly breaker: BreakerStateKind | undefined;
}

/** One endpoint as published: its status with every reason, and what Envoy is told. */
export interface EvaluatedEndpoint {
  readonly config: EndpointConfig;
  readonly status: HealthStatus;
  readonly reasons: readonly HealthReason[];
  readonly envoyHealth: EnvoyHealth;
  /** `load_balancing_weight`, at least 1. */
  readonly weight: number;
}

/** Whether Envoy runs one priority level of a cluster in panic mode. */
export interface PanicLevel {
  readonly priority: number;
  /** Endpoints Envoy may route to (HEALTHY, UNKNOWN or DEGRADED). */
  readonly routable: number;
  readonly total: number;
  /**
   * True when Envoy would ignore health in this level: its routable share is
   * under the panic threshold and the cluster as a whole lacks capacity.
   */
  readonly below: boolean;
}

/** A cluster's published state. */
export interface ClusterEvaluation {
  readonly cluster: string;
  readonly endpoints: readonly EvaluatedEndpoint[];
  readonly panic: readonly PanicLevel[];
}

/**
 * Combines probe verdicts, breaker states and the routable guard into what
 * Envoy is told about each endpoint of a cluster:
 *
 * - An open breaker makes the endpoint UNHEALTHY at once (the breaker has its
 *   own thresholds). A half-open one makes it DEGRADED and publishes it as
 *   HEALTHY at weight 1, whatever `degraded_health_status` says: Envoy sends
 *   DEGRADED hosts nothing while healthy ones have capacity, and a half-open
 *   breaker that never sees a trial never closes. Over probes that say
 *   UNHEALTHY it stays UNHEALTHY: trials resume once the probes pass.
 * - DEGRADED endpoints get `weight × degraded_weight_factor` (at least 1).
 * - Endpoints not yet probed are published UNKNOWN, which Envoy routes to.
 * - When every endpoint would be UNHEALTHY, one is kept routable (DEGRADED,
 *   reason `routable_guard`): the first whose breaker is not open, in
 *   priority then config order.
 */
export function evaluateCluster(
  cluster: ClusterHealthConfig,
  inputs: readonly EndpointInput[],
): ClusterEvaluation {
  const endpoints = inputs.map((input) => evaluateEndpoint(cluster, input));
  const guarded = applyGuard(cluster, inputs, endpoints);
  return { cluster: cluster.name, endpoints: guarded, panic: panicLevels(cluster, guarded) };
}

function evaluateEndpoint(cluster: ClusterHealthConfig, input: EndpointInput): EvaluatedEndpoint {
  const { config } = input;
  const breaker = breakerReason(config.key, input.breaker);
  const probeStatus = input.probe?.status ?? 'HEALTHY';
  const status = breaker ? worse(probeStatus, breaker.status) : probeStatus;
  const reasons = [...(input.probe?.reasons ?? []), ...(breaker ? [breaker] : [])];
  const base = { config, status, reasons };

  if (status === 'UNHEALTHY') return { ...base, envoyHealth: 'UNHEALTHY', weight: config.weight };
  if (input.breaker === 'half_open') return { ...base, envoyHealth: 'HEALTHY', weight: 1 };
  if (status === 'DEGRADED') {
    const weight = degradedWeight(cluster, config);
    return { ...base, envoyHealth: cluster.degradedHealthStatus, weight };
  }

  const unprobed = input.probe === undefined && hasChecks(cluster.checks);
  const envoyHealth = unprobed ? 'UNKNOWN' : 'HEALTHY';
  return { ...base, envoyHealth, weight: config.weight };
}

function breakerReason(key: string, state?: BreakerStateKind): HealthReason | undefined {
  if (state === 'open') {
    return {
      check: 'circuit_breaker',
      status: 'UNHEALTHY',
      detail: `circuit breaker ${key} is open`,
      value: 'open',
    };
  }
  if (state === 'half_open') {
    return {
      check: 'circuit_breaker',
      status: 'DEGRADED',
      detail: `circuit breaker ${key} is half-open: published at weight 1 so its trials arrive`,
      value: 'half_open',
    };
  }
  return undefined;
}

function applyGuard(
  cluster: ClusterHealthConfig,
  inputs: readonly EndpointInput[],
  endpoints: EvaluatedEndpoint[],
): EvaluatedEndpoint[] {
  if (endpoints.some((endpoint) => endpoint.envoyHealth !== 'UNHEALTHY')) return endpoints;

  const order = endpoints
    .map((endpoint, index) => ({ endpoint, index, open: inputs[index]?.breaker === 'open' }))
    .sort(
      (a, b) =>
        Number(a.open) - Number(b.open) ||
        a.endpoint.config.priority - b.endpoint.config.priority ||
        a.index - b.index,
    );
  const kept = order[0];
  if (!kept) return endpoints;

  const guard: HealthReason = {
    check: 'routable_guard',
    status: 'DEGRADED',
    detail: `every endpoint of cluster ${cluster.name} is unhealthy; this one is kept routable`,
  };
  const endpoint = kept.endpoint;
  endpoints[kept.index] = {
    ...endpoint,
    status: 'DEGRADED',
    reasons: [...endpoint.reasons, guard],
    envoyHealth: 'HEALTHY',
    weight: degradedWeight(cluster, endpoint.config),
  };
  return endpoints;
}

/**
 * Envoy's default overprovisioning factor, in percent. tollgate sends no
 * `policy.overprovisioning_factor`, so every subscriber uses this one.
 */
const OVERPROVISIONING_PERCENT = 140;

/**
 * Which priority levels Envoy runs in panic mode, computed as Envoy does. A
 * level's availability is its share of healthy hosts times 1.4, capped at
 * 100, plus the same for degraded hosts; the levels' sum, capped at 100, is
 * the normalized total availability. While that total is 100 Envoy ignores
 * panic thresholds altogether (a backup priority with no healthy host is
 * simply not used, and 3 of 4 hosts healthy is enough whatever the
 * threshold); below it, a level panics when its routable share is under the
 * threshold.
 */
function panicLevels(
  cluster: ClusterHealthConfig,
  endpoints: readonly EvaluatedEndpoint[],
): PanicLevel[] {
  const levels = new Map<number, { healthy: number; degraded: number; total: number }>();
  for (const endpoint of endpoints) {
    const level = levels.get(endpoint.config.priority) ?? { healthy: 0, degraded: 0, total: 0 };
    level.total += 1;
    if (endpoint.envoyHealth === 'DEGRADED') level.degraded += 1;
    else if (endpoint.envoyHealth !== 'UNHEALTHY') level.healthy += 1;
    levels.set(endpoint.config.priority, level);
  }

  const share = (count: number, total: number) =>
    Math.min(100, Math.floor((OVERPROVISIONING_PERCENT * count) / total));
  const availability = [...levels.values()].reduce(
    (sum, level) => sum + share(level.healthy, level.total) + share(level.degraded, level.total),
    0,
  );
  const anyPanic = availability < 100;

  return [...levels.entries()]
    .sort(([a], [b]) => a - b)
    .map(([priority, { healthy, degraded, total }]) => {
      const routable = healthy + degraded;
      const below = anyPanic && routable * 100 < cluster.panicThresholdPercent * total;
      return { priority, routable, total, below };
    });
}

function degradedWeight(cluster: ClusterHealthConfig, config: EndpointConfig): number {
  return Math.max(1, Math.round(config.weight * cluster.degradedWeightFactor));
}
