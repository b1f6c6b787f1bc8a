/**
 * How one circuit breaker decides. Counts are whole numbers of at least 1;
 * `timeoutSeconds` is a positive number of seconds and may be fractional.
 */
export interface BreakerSettings {
  /** Consecutive failures while closed that open the breaker. */
  readonly failureThreshold: number;

  /** Consecutive successful trials while half-open that close the breaker again. */
  readonly successThreshold: number;

  /**
   * Seconds the breaker stays open before it admits trials. Also the longest a
   * half-open trial may stay unsettled before it counts as a failure.
   */
  readonly timeoutSeconds: number;

  /** Trials admitted at the same time while half-open. */
  readonly halfOpenMaxRequests: number;

  /** Whether an upstream HTTP status counts as a failure of the upstream. */
  readonly isFailureStatus: (status: number) => boolean;
}

/** Settings for upstreams that configure nothing: 5 failures open, 30 s, one trial. */
export const defaultBreakerSettings: BreakerSettings = Object.freeze({
  failureThreshold: 5,
  successThreshold: 2,
  timeoutSeconds: 30,
  halfOpenMaxRequests: 1,
  isFailureStatus: (status: number) => status >= 500,
});

/**
 * Throws a `RangeError` naming the first setting that is out of range, prefixed
 * with `owner` (for example `breaker "openai"`). Config validation reports
 * problems as values before this point; reaching the throw means a caller
 * built settings by hand and got them wrong.
 */
export function assertValidBreakerSettings(settings: BreakerSettings, owner = 'breaker'): void {
  assertCount(owner, 'failureThreshold', settings.failureThreshold);
  assertCount(owner, 'successThreshold', settings.successThreshold);
  assertCount(owner, 'halfOpenMaxRequests', settings.halfOpenMaxRequests);

  const timeout = settings.timeoutSeconds;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new RangeError(`${owner} timeoutSeconds must be a positive number, got ${timeout}`);
  }
}

function assertCount(owner: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${owner} ${name} must be an integer of at least 1, got ${value}`);
  }
}
