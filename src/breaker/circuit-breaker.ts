import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import { BreakerEvents, type BreakerTransitionReason } from './breaker-events.js';
import { Permit, type BreakerPermit, type Settlement } from './breaker-permit.js';
import { assertValidBreakerSettings, type BreakerSettings } from './breaker-settings.js';
import type {
  BreakerState,
  BreakerStateKind,
  ClosedState,
  HalfOpenState,
} from './breaker-state.js';

export type { BreakerPermit };

/** The answer to {@link CircuitBreaker.tryAcquire}. */
export type Admission =
  | { readonly admitted: true; readonly permit: BreakerPermit }
  | {
      readonly admitted: false;
      readonly state: BreakerStateKind;
      /** Whole seconds, at least 1, until the breaker will admit a trial. */
      readonly retryAfterSeconds: number;
      /** Open by an operator until reset: `retryAfterSeconds` is only a back-off hint. */
      readonly forced: boolean;
    };

/**
 * Running counts since the breaker was created. Outcomes are counted as
 * reported, including those too stale to move the state machine.
 */
export interface BreakerTotals {
  readonly admitted: number;
  readonly rejected: number;
  readonly successes: number;
  readonly failures: number;
  readonly released: number;
}

/** The numeric settings of a breaker, as shown on /status. */
export type BreakerSettingsSummary = Omit<BreakerSettings, 'isFailureStatus'>;

/** A breaker's state for /status, read after any elapsed open timeout applied. */
export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerStateKind;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly trialsInFlight: number;

  /** Wall-clock milliseconds of the last transition, or `null` if there was none. */
  readonly lastTransitionWallMs: number | null;

  /** Milliseconds until the breaker turns half-open; `null` unless open with a timer. */
  readonly reopensInMs: number | null;

  /** Opened from the admin port; stays open until reset. */
  readonly forcedOpen: boolean;

  readonly settings: BreakerSettingsSummary;
  readonly totals: BreakerTotals;
}

const closed: ClosedState = Object.freeze({ kind: 'closed', consecutiveFailures: 0 });
const halfOpen: HalfOpenState = Object.freeze({
  kind: 'half_open',
  trialsInFlight: 0,
  consecutiveSuccesses: 0,
});

/**
 * A circuit breaker for one upstream. Closed, it counts consecutive failures
 * and opens at the threshold. Open, it rejects everything for `timeoutSeconds`
 * of monotonic time, then turns half-open on a timer (or on the next read, if
 * that comes first). Half-open, it admits up to `halfOpenMaxRequests` trials at
 * once: one failure reopens it, `successThreshold` successes close it.
 *
 * Every transition starts a new epoch. A permit's outcome only counts if the
 * permit was issued in the current epoch, so a slow response from before a
 * transition cannot restart a timer or pass for a trial.
 */
export class CircuitBreaker {
  private current: BreakerState = closed;
  private epoch = 0;
  private reopenTimer: TimerHandle | null = null;
  private readonly trials = new Set<Permit>();
  private lastTransitionWallMs: number | null = null;
  private disposed = false;

  private readonly totals = { admitted: 0, rejected: 0, successes: 0, failures: 0, released: 0 };

  /** Throws a `RangeError` if `settings` are out of range. */
  constructor(
    /** Name of the breaker, which is the upstream it guards. */
    readonly name: string,
    private settings: BreakerSettings,
    private readonly clock: Clock = systemClock,
    /** Where transitions and rejections are reported. */
    readonly events: BreakerEvents = new BreakerEvents(),
  ) {
    assertValidBreakerSettings(settings, this.label());
  }

  /** The current state, after applying an open timeout that has elapsed. */
  state(): BreakerState {
    this.applyElapsedTimeout();
    return this.current;
  }

  /**
   * Whether a request would be admitted now, without taking a permit or
   * counting anything: for a front end that sees no response (ext_authz),
   * which rejects only what an open breaker rejects and leaves half-open
   * trials to the front end that records their outcome.
   */
  peek():
    { readonly open: false } | { readonly open: true; retryAfterSeconds: number; forced: boolean } {
    this.applyElapsedTimeout();
    const state = this.current;
    if (state.kind !== 'open') return { open: false };

    const retryAfterSeconds = this.openRetryAfterSeconds(state.reopensAtMs);
    return { open: true, retryAfterSeconds, forced: isForcedOpen(state) };
  }

  /**
   * Asks to send one request. Admitted requests get a permit to settle with the
   * outcome; rejected ones get the state and a retry-after, and a rejection
   * event is emitted. Counting is synchronous: calls in the same tick see each
   * other's trial slots.
   */
  tryAcquire(): Admission {
    this.applyElapsedTimeout();
    const state = this.current;

    switch (state.kind) {
      case 'closed':
        return this.admit();

      case 'open':
        return this.reject(this.openRetryAfterSeconds(state.reopensAtMs));

      case 'half_open':
        if (state.trialsInFlight >= this.settings.halfOpenMaxRequests) return this.reject(1);

        this.current = { ...state, trialsInFlight: state.trialsInFlight + 1 };
        return this.admitTrial();
    }
  }

  /**
   * Closes the breaker with every counter at zero (reason `manual_reset`).
   * Returns false, emitting nothing, when it is already closed with no
   * failures counted, since there is then nothing to reset.
   */
  reset(): boolean {
    const state = this.current;
    if (state.kind === 'closed' && state.consecutiveFailures === 0) return false;

    this.transition(closed, 'manual_reset');
    return true;
  }

  /**
   * Opens the breaker until {@link reset} (reason `forced_open`). Returns false,
   * emitting nothing, when it is already forced open.
   */
  forceOpen(): boolean {
    const state = this.current;
    if (state.kind === 'open' && state.reopensAtMs === null) return false;

    const now = this.clock.monotonicMs();
    this.transition({ kind: 'open', openedAtMs: now, reopensAtMs: null }, 'forced_open');
    return true;
  }

  /**
   * Uses new settings from now on, keeping the current state. Thresholds are
   * checked when the next outcome arrives, so a closed breaker whose failure
   * count already reaches a lowered threshold opens on its next failure, not
   * now. A running open timer and running trial timers keep their deadlines.
   * Throws a `RangeError` if `settings` are out of range.
   */
  updateSettings(settings: BreakerSettings): void {
    assertValidBreakerSettings(settings, this.label());
    this.settings = settings;
  }

  /** The state, counters and totals for /status. */
  snapshot(): BreakerSnapshot {
    const state = this.state();
    const { failureThreshold, successThreshold, timeoutSeconds, halfOpenMaxRequests } =
      this.settings;

    return {
      name: this.name,
      state: state.kind,
      consecutiveFailures: state.kind === 'closed' ? state.consecutiveFailures : 0,
      consecutiveSuccesses: state.kind === 'half_open' ? state.consecutiveSuccesses : 0,
      trialsInFlight: state.kind === 'half_open' ? state.trialsInFlight : 0,
      lastTransitionWallMs: this.lastTransitionWallMs,
      reopensInMs: this.reopensInMs(state),
      forcedOpen: isForcedOpen(state),
      settings: { failureThreshold, successThreshold, timeoutSeconds, halfOpenMaxRequests },
      totals: { ...this.totals },
    };
  }

  /**
   * Cancels every timer. Afterwards outcomes are ignored and no timer is
   * started; reads still apply an elapsed open timeout lazily.
   */
  dispose(): void {
    this.disposed = true;
    this.cancelTimers();
  }

  private label(): string {
    return `breaker ${JSON.stringify(this.name)}`;
  }

  private admit(): Admission {
    this.totals.admitted += 1;
    const permit = this.newPermit();

    return { admitted: true, permit };
  }

  private admitTrial(): Admission {
    this.totals.admitted += 1;
    const permit = this.newPermit();
    this.trials.add(permit);

    // A trial whose stream never ends would hold its slot, and so the breaker,
    // in half-open forever; past the open timeout it counts as a failure.
    if (!this.disposed) {
      const delayMs = this.settings.timeoutSeconds * 1000;
      permit.hangTimer = this.clock.schedule(delayMs, () => permit.settle('failure'));
    }

    return { admitted: true, permit };
  }

  private newPermit(): Permit {
    const classify = (status: number) => this.settings.isFailureStatus(status);
    return new Permit(this.epoch, classify, (permit, how) => this.onSettle(permit, how));
  }

  private reject(retryAfterSeconds: number): Admission {
    this.totals.rejected += 1;
    const state = this.current.kind;

    const forced = isForcedOpen(this.current);

    this.events.emitRejection({ breaker: this.name, state, retryAfterSeconds });
    return { admitted: false, state, retryAfterSeconds, forced };
  }

  private openRetryAfterSeconds(reopensAtMs: number | null): number {
    if (reopensAtMs === null) return Math.max(1, Math.ceil(this.settings.timeoutSeconds));

    const remainingMs = reopensAtMs - this.clock.monotonicMs();
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  private onSettle(permit: Permit, settlement: Settlement): void {
    this.count(settlement);
    this.trials.delete(permit);
    if (this.disposed || permit.epoch !== this.epoch) return;

    // No permit is issued while open, so a current-epoch permit always belongs
    // to a closed or half-open period.
    const state = this.current;
    if (state.kind === 'closed') this.settleClosed(state, settlement);
    if (state.kind === 'half_open') this.settleTrial(state, settlement);
  }

  private count(settlement: Settlement): void {
    if (settlement === 'success') this.totals.successes += 1;
    if (settlement === 'failure') this.totals.failures += 1;
    if (settlement === 'release') this.totals.released += 1;
  }

  private settleClosed(state: ClosedState, settlement: Settlement): void {
    if (settlement === 'release') return;

    if (settlement === 'success') {
      this.current = closed;
      return;
    }

    const failures = state.consecutiveFailures + 1;
    if (failures >= this.settings.failureThreshold) {
      this.transition(this.openState(), 'failure_threshold');
      return;
    }

    this.current = { kind: 'closed', consecutiveFailures: failures };
  }

  private settleTrial(state: HalfOpenState, settlement: Settlement): void {
    const trialsInFlight = state.trialsInFlight - 1;

    if (settlement === 'release') {
      this.current = { ...state, trialsInFlight };
      return;
    }

    if (settlement === 'failure') {
      this.transition(this.openState(), 'trial_failed');
      return;
    }

    const consecutiveSuccesses = state.consecutiveSuccesses + 1;
    if (consecutiveSuccesses >= this.settings.successThreshold) {
      this.transition(closed, 'success_threshold');
      return;
    }

    this.current = { kind: 'half_open', trialsInFlight, consecutiveSuccesses };
  }

  private openState(): BreakerState {
    const now = this.clock.monotonicMs();
    const reopensAtMs = now + this.settings.timeoutSeconds * 1000;

    return { kind: 'open', openedAtMs: now, reopensAtMs };
  }

  private applyElapsedTimeout(): void {
    const state = this.current;
    if (state.kind !== 'open' || state.reopensAtMs === null) return;
    if (this.clock.monotonicMs() < state.reopensAtMs) return;

    this.transition(halfOpen, 'timeout_elapsed');
  }

  private transition(next: BreakerState, reason: BreakerTransitionReason): void {
    const from = this.current.kind;
    const atWallMs = this.clock.wallMs();

    this.cancelTimers();
    this.current = next;
    this.epoch += 1;
    this.lastTransitionWallMs = atWallMs;
    this.scheduleReopen(next);

    this.events.emitTransition({ breaker: this.name, from, to: next.kind, reason, atWallMs });
  }

  private scheduleReopen(state: BreakerState): void {
    if (this.disposed || state.kind !== 'open' || state.reopensAtMs === null) return;

    // The state must turn half-open when the time comes, not only when the
    // next request asks; the epoch guards against a timer that was already
    // due when a lazy read made the same transition.
    const epoch = this.epoch;
    const delayMs = state.reopensAtMs - this.clock.monotonicMs();
    this.reopenTimer = this.clock.schedule(delayMs, () => this.onReopenTimer(epoch));
  }

  private onReopenTimer(epoch: number): void {
    this.reopenTimer = null;
    if (epoch !== this.epoch || this.current.kind !== 'open') return;

    this.transition(halfOpen, 'timeout_elapsed');
  }

  // Trials of the period being left become stale: their outcomes no longer
  // count, so their hang timers have nothing left to do.
  private cancelTimers(): void {
    this.reopenTimer?.cancel();
    this.reopenTimer = null;

    for (const trial of this.trials) {
      trial.hangTimer?.cancel();
      trial.hangTimer = null;
    }
    this.trials.clear();
  }

  private reopensInMs(state: BreakerState): number | null {
    if (state.kind !== 'open' || state.reopensAtMs === null) return null;

    return Math.max(0, Math.ceil(state.reopensAtMs - this.clock.monotonicMs()));
  }
}

function isForcedOpen(state: BreakerState): boolean {
  return state.kind === 'open' && state.reopensAtMs === null;
}
