import type { TokenUsage } from '../usage/token-usage.js';
import type { BudgetReservation } from './budget-admission.js';

/**
 * A reservation that acts once: the first settle or release runs, and every
 * later call (of either) returns that first call's promise, so a request
 * that ends twice is never charged twice.
 */
export class OnceReservation implements BudgetReservation {
  private outcome: Promise<void> | undefined;

  constructor(
    private readonly onSettle: (usage: TokenUsage) => Promise<void>,
    private readonly onRelease: () => Promise<void>,
  ) {}

  settle(usage: TokenUsage): Promise<void> {
    this.outcome ??= this.onSettle(usage);
    return this.outcome;
  }

  release(): Promise<void> {
    this.outcome ??= this.onRelease();
    return this.outcome;
  }
}
