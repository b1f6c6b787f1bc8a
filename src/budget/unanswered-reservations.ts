import type { Clock } from '../time/clock.js';
import type { BudgetStore, PeriodKey } from './budget-store.js';

/** Reservations to drop once the store is back; past it, they wait out their time to live. */
const MAX_PENDING_DROPS = 10_000;

/**
 * Reservations whose reserve or settle lost its answer. Such an operation
 * may still have run in the store, or not: Redis runs a command it has read
 * even after the client gave up on it, and a connection cut mid-command
 * leaves either. A reservation left behind would hold its tokens until it
 * expires, so it is dropped: at once (on the same connection, so after the
 * command), and again once the store answers after an outage. Dropping is
 * safe either way: the store ignores an id it does not hold. The usage of a
 * settle that never ran is lost (logged once per outage by the ledger).
 */
export class UnansweredReservations {
  private readonly pending = new Map<string, PeriodKey>();
  private dropping = false;

  constructor(
    private readonly store: BudgetStore,
    private readonly clock: Clock,
  ) {}

  /** Drops the reservation now, and remembers it to drop again when the store is back. */
  drop(key: PeriodKey, reservationId: string): void {
    void this.store.release(key, reservationId, this.clock.wallMs()).catch(() => undefined);
    this.remember(reservationId, key);
  }

  /** The store answered: drops what is remembered, in the background. */
  storeAnswered(): void {
    if (this.pending.size > 0 && !this.dropping) void this.dropPending();
  }

  private async dropPending(): Promise<void> {
    this.dropping = true;
    const drops = [...this.pending];
    this.pending.clear();

    for (const [id, key] of drops) {
      await this.store.release(key, id, this.clock.wallMs()).catch(() => this.remember(id, key));
    }
    this.dropping = false;
  }

  private remember(id: string, key: PeriodKey): void {
    if (this.pending.size < MAX_PENDING_DROPS) this.pending.set(id, key);
  }
}
