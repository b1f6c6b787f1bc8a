/** The three positions of a circuit breaker, as reported in events and on /status. */
export type BreakerStateKind = 'closed' | 'open' | 'half_open';

/** Traffic flows; consecutive failures are counted towards the failure threshold. */
export interface ClosedState {
  readonly kind: 'closed';
  readonly consecutiveFailures: number;
}

/** Every request is rejected until the breaker admits trials again. */
export interface OpenState {
  readonly kind: 'open';

  /** Monotonic milliseconds at which this open period began. */
  readonly openedAtMs: number;

  /**
   * Monotonic milliseconds at which the breaker turns half-open, or `null` when
   * it was forced open and stays open until a manual reset.
   */
  readonly reopensAtMs: number | null;
}

/** A limited number of trial requests probe whether the upstream has recovered. */
export interface HalfOpenState {
  readonly kind: 'half_open';

  /** Trials admitted in this half-open period and not yet settled. */
  readonly trialsInFlight: number;

  /** Trials of this half-open period that succeeded, all of them in a row. */
  readonly consecutiveSuccesses: number;
}

/** A circuit breaker's state. Values are immutable; a change makes a new one. */
export type BreakerState = ClosedState | OpenState | HalfOpenState;
