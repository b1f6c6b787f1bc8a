import type { TokenUsage } from '../usage/token-usage.js';
import type { BudgetReservation } from './budget-admission.js';

/** What a reservation asks of the ledger that made it. */
export interface ReservationOwner {
  settleReservation(reservation: LedgerReservation, usage: TokenUsage | undefined): Promise<void>;
  releaseReservation(reservation: LedgerReservation): Promise<void>;
}

/**
 * A reservation made by the ledger: remembers its period (so a request that
 * straddles a period boundary is settled in the period it was admitted in)
 * and runs its settlement or release once.
 */
export class LedgerReservation implements BudgetReservation {
  private finished = false;

  constructor(
    private readonly owner: ReservationOwner,
    readonly tenant: string,
    readonly estimate: number,
    /** The store's id of the reservation. */
    readonly id: string,
    /** Start of the period the tokens were reserved in, Unix ms. */
    readonly periodStartMs: number,
  ) {}

  async settle(usage: TokenUsage | undefined): Promise<void> {
    if (this.finished) return;

    this.finished = true;
    await this.owner.settleReservation(this, usage);
  }

  async release(): Promise<void> {
    if (this.finished) return;

    this.finished = true;
    await this.owner.releaseReservation(this);
  }
}
