import type {
  BudgetStore,
  CeilingRule,
  PeriodKey,
  PeriodUsage,
  ReserveOutcome,
  ReserveRequest,
  SettleOutcome,
  SettleRequest,
} from '../../src/budget/budget-store.js';

/**
 * A budget store that can be made to hang: while frozen, every operation
 * waits (as on a Redis stopped with SIGSTOP) and runs on the wrapped store
 * once thawed, in the order it was called. Counts the operations that ran.
 */
export class GatedStore implements BudgetStore {
  readonly backend: string;
  readonly ran = new Map<string, number>();
  private gate: Promise<void> | undefined;
  private thawGate: (() => void) | undefined;

  constructor(private readonly inner: BudgetStore) {
    this.backend = inner.backend;
  }

  /** Makes every later operation wait until {@link thaw}. */
  freeze(): void {
    this.gate ??= new Promise((resolve) => (this.thawGate = resolve));
  }

  /** Lets the waiting operations run, and later ones run at once. */
  thaw(): void {
    this.thawGate?.();
    this.gate = undefined;
  }

  release(key: PeriodKey, reservationId: string, nowMs: number): Promise<void> {
    return this.run('release', () => this.inner.release(key, reservationId, nowMs));
  }

  reserve(key: PeriodKey, rule: CeilingRule, request: ReserveRequest): Promise<ReserveOutcome> {
    return this.run('reserve', () => this.inner.reserve(key, rule, request));
  }

  settle(key: PeriodKey, rule: CeilingRule, request: SettleRequest): Promise<SettleOutcome> {
    return this.run('settle', () => this.inner.settle(key, rule, request));
  }

  extend(key: PeriodKey, reservationId: string, expiresAtMs: number): Promise<void> {
    return this.run('extend', () => this.inner.extend(key, reservationId, expiresAtMs));
  }

  usage(key: PeriodKey, rule: CeilingRule, nowMs: number): Promise<PeriodUsage> {
    return this.run('usage', () => this.inner.usage(key, rule, nowMs));
  }

  reset(key: PeriodKey, nowMs: number): Promise<void> {
    return this.run('reset', () => this.inner.reset(key, nowMs));
  }

  activeTenants(nowMs: number): Promise<string[]> {
    return this.run('activeTenants', () => this.inner.activeTenants(nowMs));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async run<T>(name: string, operation: () => Promise<T>): Promise<T> {
    if (this.gate) await this.gate;
    this.ran.set(name, (this.ran.get(name) ?? 0) + 1);
    return operation();
  }
}
