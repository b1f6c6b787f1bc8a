import type { ClusterEvaluation } from './cluster-evaluation.js';
import { EventChannel } from './event-channel.js';
import type { HealthReason, HealthStatus } from './health-status.js';
import type { ProbeRound } from './probe-round.js';

/** A probe round of one endpoint finished. */
export interface RoundFinished {
  readonly cluster: string;
  readonly endpoint: string;
  readonly round: ProbeRound;
}

/** An endpoint's published status changed. */
export interface EndpointStatusChange {
  readonly cluster: string;
  readonly endpoint: string;
  /** Undefined when the endpoint is new (start-up or a reload added it). */
  readonly from: HealthStatus | undefined;
  readonly to: HealthStatus;
  readonly reasons: readonly HealthReason[];
}

/** A priority level of a cluster fell below Envoy's panic threshold, or recovered. */
export interface PanicChange {
  readonly cluster: string;
  readonly priority: number;
  readonly routable: number;
  readonly total: number;
  readonly thresholdPercent: number;
  /** True when it fell below. */
  readonly below: boolean;
}

/** A model turned cold, or warm again. */
export interface WarmthChange {
  readonly cluster: string;
  readonly endpoint: string;
  readonly cold: boolean;
  readonly detail: string;
}

/** The set of configured clusters changed. */
export interface ClustersChanged {
  /** Every cluster added, changed or removed. */
  readonly names: readonly string[];
}

/**
 * The typed events of the health monitor. Metrics, logs and the EDS server
 * observe these rather than living inside the monitor.
 */
export class HealthEvents {
  /** A cluster was evaluated (after a round, a breaker transition or a reload). */
  readonly evaluated = new EventChannel<ClusterEvaluation>();
  readonly roundFinished = new EventChannel<RoundFinished>();
  readonly statusChanged = new EventChannel<EndpointStatusChange>();
  readonly panicChanged = new EventChannel<PanicChange>();
  readonly warmthChanged = new EventChannel<WarmthChange>();
  readonly clustersChanged = new EventChannel<ClustersChanged>();
}
