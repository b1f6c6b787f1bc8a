/**
 * Where budget usage lives. Every operation is ONE atomic step in the store
 * (synchronous, in the memory of the one process that owns the embedded
 * file, or one Redis Lua script), so concurrent requests, processes and
 * replicas can never overspend through a read-modify-write race. Each
 * operation first drops the tenant's expired reservations, so a crashed
 * process's reservations do not hold budget.
 *
 * Failures reject with a `BudgetStoreError`.
 */
export interface BudgetStore {
  /** `embedded` or `redis`. */
  readonly backend: string;

  /** Checks the budget for `estimate` tokens and, when admitted and not `dryRun`, reserves them. */
  reserve(key: PeriodKey, rule: CeilingRule, request: ReserveRequest): Promise<ReserveOutcome>;

  /**
   * Replaces a reservation by the tokens actually used: drops the reservation
   * (if it has not expired), adds `tokens` to the period's used count, and
   * marks the alert thresholds that usage has now reached.
   */
  settle(key: PeriodKey, rule: CeilingRule, request: SettleRequest): Promise<SettleOutcome>;

  /**
   * Moves an open reservation's expiry to `expiresAtMs`, for a request that is
   * still running. A reservation already settled, released or expired stays gone.
   */
  extend(key: PeriodKey, reservationId: string, expiresAtMs: number): Promise<void>;

  /** Drops a reservation uncharged. Unknown or expired reservations are ignored. */
  release(key: PeriodKey, reservationId: string, nowMs: number): Promise<void>;

  /** The period's counts, without changing them (other than sweeping expired reservations). */
  usage(key: PeriodKey, rule: CeilingRule, nowMs: number): Promise<PeriodUsage>;

  /** Sets the period's usage back to zero: used, reservations and alert marks. */
  reset(key: PeriodKey, nowMs: number): Promise<void>;

  /** Tenants with a period that has not ended at `nowMs`. */
  activeTenants(nowMs: number): Promise<string[]>;

  /** Closes connections or files. Further calls fail. */
  close(): Promise<void>;
}

/** One tenant's period, as the store keys it. */
export interface PeriodKey {
  readonly tenant: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Start of the period before, read for rollover. */
  readonly previousStartMs: number;
  /**
   * Until when the store keeps the period: the end of the NEXT period, so
   * that period can still read this one's usage for rollover.
   */
  readonly keepUntilMs: number;
}

/** The parts of a budget the store needs to decide atomically. */
export interface CeilingRule {
  readonly limit: number;
  readonly rollover: boolean;
  readonly burstAllowance: number;
  readonly enforce: boolean;
}

/** A request to reserve tokens. */
export interface ReserveRequest {
  readonly estimate: number;
  /** Id of the new reservation (unique across replicas). */
  readonly reservationId: string;
  readonly nowMs: number;
  /** When the reservation expires if never settled or released. */
  readonly expiresAtMs: number;
  /** Decide only; reserve nothing. */
  readonly dryRun: boolean;
}

/** What the store decided, with the counts it decided on. */
export interface ReserveOutcome {
  readonly admitted: boolean;
  /** Settled tokens of the period. */
  readonly used: number;
  /** Tokens held by open reservations, including this one when it was made. */
  readonly reserved: number;
  /** `limit` plus rolled-over tokens. */
  readonly allowance: number;
}

/** A request to settle a reservation with the tokens actually used. */
export interface SettleRequest {
  readonly reservationId: string;
  readonly tokens: number;
  readonly nowMs: number;
  /** Alert thresholds as fractions of `limit`; the store marks the ones reached. */
  readonly thresholds: readonly number[];
}

/** The period after a settle. */
export interface SettleOutcome {
  readonly usedBefore: number;
  readonly usedAfter: number;
  readonly reserved: number;
  readonly allowance: number;
  /** Thresholds reached for the first time this period (marked, so no replica fires them again). */
  readonly fired: readonly number[];
}

/** A period's counts. */
export interface PeriodUsage {
  readonly used: number;
  readonly reserved: number;
  readonly allowance: number;
}

/**
 * The allowance of a period: `limit`, plus with rollover the previous
 * period's unused tokens, `min(limit, max(0, limit - previousUsed))`. Only a
 * previous period the store holds a record of counts (the tenant was admitted
 * in it), so a new tenant does not start with twice its limit. Rolled-over
 * tokens do not roll again: "unused" is measured against `limit`.
 */
export function allowanceOf(rule: CeilingRule, previous: number | undefined): number {
  if (!rule.rollover || previous === undefined) return rule.limit;
  return rule.limit + Math.min(rule.limit, Math.max(0, rule.limit - previous));
}

/**
 * The most tokens (settled plus reserved) an enforcing budget admits:
 * the allowance plus the burst fraction of it, rounded down.
 */
export function ceilingOf(rule: CeilingRule, allowance: number): number {
  return Math.floor(allowance * (1 + rule.burstAllowance));
}
