import type { Clock, TimerHandle } from '../time/clock.js';
import type { TokenUsage } from '../usage/token-usage.js';
import type { BudgetReservation } from './budget-admission.js';

/** How an open reservation is kept from expiring while its request runs. */
export interface ReservationKeepAlive {
  readonly clock: Clock;
  /** Time between renewals; well under the reservation's time to live. */
  readonly everyMs: number;
  /** Pushes the reservation's expiry one time to live past now. */
  readonly renew: () => Promise<void>;
}

/**
 * A reservation that acts once: the first settle or release runs, and every
 * later call (of either) returns that first call's promise, so a request
 * that ends twice is never charged twice.
 *
 * With a keep-alive, the reservation is renewed on a timer until it is
 * settled or released: a response that streams for longer than
 * `reservation_ttl_seconds` keeps its tokens held, so that other requests
 * cannot spend them meanwhile. A process that dies stops renewing, and its
 * reservations expire as they should.
 */
export class OnceReservation implements BudgetReservation {
  private outcome: Promise<void> | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly onSettle: (usage: TokenUsage) => Promise<void>,
    private readonly onRelease: () => Promise<void>,
    private readonly keepAlive?: ReservationKeepAlive,
  ) {
    this.scheduleRenewal();
  }

  settle(usage: TokenUsage): Promise<void> {
    this.stopRenewing();
    this.outcome ??= this.onSettle(usage);
    return this.outcome;
  }

  release(): Promise<void> {
    this.stopRenewing();
    this.outcome ??= this.onRelease();
    return this.outcome;
  }

  // A failed renewal is already logged by the ledger as a store outage; the
  // next one tries again, and the settle counts the tokens either way.
  private scheduleRenewal(): void {
    const keepAlive = this.keepAlive;
    if (!keepAlive) return;

    this.timer = keepAlive.clock.schedule(keepAlive.everyMs, () => {
      if (this.outcome) return;

      void keepAlive.renew().catch(() => undefined);
      this.scheduleRenewal();
    });
  }

  private stopRenewing(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
