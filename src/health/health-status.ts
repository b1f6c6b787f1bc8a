/** An endpoint's health, best first. */
export type HealthStatus = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';

/** The checks that can speak about an endpoint. */
export type CheckName =
  | 'inference_probe'
  | 'model_status'
  | 'queue_depth'
  | 'warmth_detection'
  | 'circuit_breaker'
  | 'routable_guard';

/** Why an endpoint is not simply HEALTHY: which check, and what it saw. */
export interface HealthReason {
  readonly check: CheckName;
  /** The status this finding alone would give. */
  readonly status: HealthStatus;
  /** What was seen, in words an operator can act on. */
  readonly detail: string;
  /** The measured value, when there is one (latency, depth, a status string). */
  readonly value?: number | string;
}

/** The result of one check, or of a whole probe round: a status and its reasons. */
export interface Verdict {
  readonly status: HealthStatus;
  readonly reasons: readonly HealthReason[];
}

const SEVERITY: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2 };

/** 0 for HEALTHY, 1 for DEGRADED, 2 for UNHEALTHY. */
export function severity(status: HealthStatus): number {
  return SEVERITY[status];
}

/** The worse of two statuses. */
export function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** A healthy verdict with no reasons. */
export const HEALTHY_VERDICT: Verdict = Object.freeze({ status: 'HEALTHY', reasons: [] });

/** A verdict from one reason: its status, and the reason itself. */
export function verdictOf(reason: HealthReason): Verdict {
  return { status: reason.status, reasons: [reason] };
}

/** Merges verdicts: the worst status, every reason in order. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  let status: HealthStatus = 'HEALTHY';
  const reasons: HealthReason[] = [];
  for (const verdict of verdicts) {
    status = worse(status, verdict.status);
    reasons.push(...verdict.reasons);
  }
  return { status, reasons };
}
