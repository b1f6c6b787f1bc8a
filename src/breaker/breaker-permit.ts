import type { TimerHandle } from '../time/clock.js';

/**
 * Permission to send one request upstream. Settle it exactly once with the
 * outcome, or release it when the stream ended without a response. The first
 * call settles the permit; later calls do nothing.
 */
export interface BreakerPermit {
  /** Settles with an HTTP status, classified by the breaker's `isFailureStatus`. */
  recordOutcome(status: number): void;

  /** Settles as a success of the upstream. */
  recordSuccess(): void;

  /** Settles as a failure of the upstream. */
  recordFailure(): void;

  /** Settles without an outcome: gives a half-open trial slot back and counts nothing. */
  release(): void;
}

/** How a permit was settled. */
export type Settlement = 'success' | 'failure' | 'release';

/** Called once when a permit settles. */
export type SettleHandler = (permit: Permit, settlement: Settlement) => void;

/** One admission. `epoch` ties its outcome to the state it was admitted in. */
export class Permit implements BreakerPermit {
  /** For a half-open trial, the timer that fails it if it never settles. */
  hangTimer: TimerHandle | null = null;

  private settled = false;

  constructor(
    readonly epoch: number,
    private readonly classify: (status: number) => boolean,
    private readonly onSettle: SettleHandler,
  ) {}

  recordOutcome(status: number): void {
    this.settle(this.classify(status) ? 'failure' : 'success');
  }

  recordSuccess(): void {
    this.settle('success');
  }

  recordFailure(): void {
    this.settle('failure');
  }

  release(): void {
    this.settle('release');
  }

  settle(settlement: Settlement): void {
    if (this.settled) return;

    this.settled = true;
    this.hangTimer?.cancel();
    this.hangTimer = null;
    this.onSettle(this, settlement);
  }
}

// Frozen because state() hands the state object itself to callers.
