/** A budget threshold reached: settled usage got to `threshold` × `limit` this period. */
export interface BudgetAlert {
  readonly tenant: string;
  /** The fraction of `limit` reached, e.g. 0.8. */
  readonly threshold: number;
  /** Settled tokens this period, after the settle that reached the threshold. */
  readonly used: number;
  readonly limit: number;
  /** Period start and end, ISO 8601 UTC. */
  readonly periodStart: string;
  readonly periodEnd: string;
}

/** The JSON body POSTed to the alert webhook. */
export function alertPayload(alert: BudgetAlert): Record<string, string | number> {
  return {
    tenant: alert.tenant,
    threshold: alert.threshold,
    used: alert.used,
    limit: alert.limit,
    period_start: alert.periodStart,
    period_end: alert.periodEnd,
  };
}
