import {
  allowanceOf,
  ceilingOf,
  type BudgetStore,
  type CeilingRule,
  type PeriodKey,
  type PeriodUsage,
  type ReserveOutcome,
  type ReserveRequest,
  type SettleOutcome,
  type SettleRequest,
} from './budget-store.js';
import { BudgetStoreError } from './budget-store-error.js';
import { EmbeddedBudgetFile } from './embedded-budget-file.js';
import { PeriodState } from './embedded-periods.js';

/** How often ended periods past their keep time are deleted. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** An operation waiting for the commit of what it changed. */
interface CommitWaiter {
  readonly operation: string;
  readonly resolve: () => void;
  readonly reject: (error: BudgetStoreError) => void;
}

/**
 * The budget store of one tollgate process, in one SQLite file it locks for
 * as long as it is open (a second process on the same file fails at start
 * with an error that says so; processes that share budgets use Redis).
 *
 * Owning the file lets the store decide in memory: counts are read from the
 * file once per period and kept in memory, open reservations live only in
 * memory, and admitting a request touches no disk. A settle or reset changes
 * memory at once, so the next decision sees it, and resolves once it is
 * committed: the changes of one event-loop turn are written together, in one
 * transaction (group commit). Settled usage thus survives a restart or a
 * `kill -9`; the open reservations of a process that dies die with it, which
 * frees their tokens at once instead of after `reservation_ttl_seconds`.
 */
export class EmbeddedBudgetStore implements BudgetStore {
  readonly backend = 'embedded';
  private readonly disk: EmbeddedBudgetFile;
  private readonly periods = new Map<string, PeriodState>();
  private readonly unsaved = new Set<PeriodState>();
  private waiting: CommitWaiter[] = [];
  private commitScheduled = false;
  /** No open reservation expires before this (a lower bound: extends only push later). */
  private earliestExpiryMs = Infinity;
  private lastPruneMs = 0;

  /** Opens (creating when needed) and locks the file; throws when it cannot. */
  constructor(readonly file: string) {
    this.disk = new EmbeddedBudgetFile(file);
  }

  reserve(key: PeriodKey, rule: CeilingRule, request: ReserveRequest): Promise<ReserveOutcome> {
    return this.attempt('reserve', () => {
      this.sweep(request.nowMs);
      this.pruneNowAndThen(request.nowMs);

      const period = this.period(key);
      const usage = this.usageOf(key, rule, period);
      const total = usage.used + usage.reserved + request.estimate;
      const admitted = !rule.enforce || total <= ceilingOf(rule, usage.allowance);
      if (!admitted || request.dryRun) return Promise.resolve({ admitted, ...usage });

      // A period's first reservation records it, for rollover and the tenant
      // list; nothing waits for that write.
      period.record(key);
      this.changed(period);
      period.reserve(request.reservationId, request.estimate, request.expiresAtMs);
      this.earliestExpiryMs = Math.min(this.earliestExpiryMs, request.expiresAtMs);
      return Promise.resolve({ admitted, ...usage, reserved: period.reserved });
    });
  }

  settle(key: PeriodKey, rule: CeilingRule, request: SettleRequest): Promise<SettleOutcome> {
    return this.attempt('settle', () => {
      this.sweep(request.nowMs);

      const period = this.period(key);
      period.drop(request.reservationId);
      period.record(key);
      const usedBefore = period.used;
      period.charge(request.tokens);
      const usage = this.usageOf(key, rule, period);
      const fired = request.thresholds.filter(
        (threshold) => usage.used >= threshold * rule.limit && period.mark(String(threshold)),
      );
      this.changed(period);

      const outcome = { usedBefore, usedAfter: usage.used, ...usage, fired };
      return this.committed('settle').then(() => outcome);
    });
  }

  extend(key: PeriodKey, reservationId: string, expiresAtMs: number): Promise<void> {
    return this.attempt('extend', () => {
      const reservation = this.periods
        .get(periodId(key.tenant, key.startMs))
        ?.reservations.get(reservationId);
      if (reservation) reservation.expiresAtMs = expiresAtMs;
      return Promise.resolve();
    });
  }

  release(key: PeriodKey, reservationId: string): Promise<void> {
    return this.attempt('release', () => {
      this.periods.get(periodId(key.tenant, key.startMs))?.drop(reservationId);
      return Promise.resolve();
    });
  }

  usage(key: PeriodKey, rule: CeilingRule, nowMs: number): Promise<PeriodUsage> {
    return this.attempt('read usage', () => {
      this.sweep(nowMs);
      return Promise.resolve(this.usageOf(key, rule, this.period(key)));
    });
  }

  reset(key: PeriodKey): Promise<void> {
    return this.attempt('reset', () => {
      const period = this.period(key);
      period.reset(key);
      this.changed(period);
      return this.committed('reset');
    });
  }

  activeTenants(nowMs: number): Promise<string[]> {
    return this.attempt('list tenants', () => {
      const tenants = new Set(this.disk.activeTenants(nowMs));
      for (const period of this.periods.values()) {
        const current = period.startMs <= nowMs && period.endMs > nowMs;
        if (period.recorded && current) tenants.add(period.tenant);
      }
      return Promise.resolve([...tenants].sort());
    });
  }

  /** Commits what is left to commit, then closes the file. */
  async close(): Promise<void> {
    if (!this.disk.open) return;

    this.commitNow();
    this.disk.close();
  }

  // Runs an operation; a throw (a closed store, an unreadable file) becomes
  // a rejected BudgetStoreError.
  private attempt<T>(operation: string, step: () => Promise<T>): Promise<T> {
    try {
      if (!this.disk.open) throw new Error('the store is closed');
      return step();
    } catch (error) {
      return Promise.reject(new BudgetStoreError(operation, this.backend, error));
    }
  }

  // The period's state, read from the file the first time it is needed.
  private period(key: PeriodKey): PeriodState {
    return this.periodAt(key.tenant, key.startMs, key);
  }

  private periodAt(
    tenant: string,
    startMs: number,
    fallback: { endMs: number; keepUntilMs: number },
  ): PeriodState {
    const id = periodId(tenant, startMs);
    let period = this.periods.get(id);
    if (!period) {
      period = new PeriodState(tenant, startMs, this.disk.read(tenant, startMs), fallback);
      this.periods.set(id, period);
    }
    return period;
  }

  private usageOf(key: PeriodKey, rule: CeilingRule, period: PeriodState): PeriodUsage {
    let previous: number | undefined;
    if (rule.rollover) {
      // The period before ends where this one starts, and is kept until this one ends.
      const before = { endMs: key.startMs, keepUntilMs: key.endMs };
      const state = this.periodAt(key.tenant, key.previousStartMs, before);
      previous = state.recorded ? state.used : undefined;
    }
    return { used: period.used, reserved: period.reserved, allowance: allowanceOf(rule, previous) };
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.earliestExpiryMs) return;

    let earliest = Infinity;
    for (const period of this.periods.values()) {
      if (period.reservations.size > 0) earliest = Math.min(earliest, period.sweep(nowMs));
    }
    this.earliestExpiryMs = earliest;
  }

  private pruneNowAndThen(nowMs: number): void {
    if (nowMs - this.lastPruneMs < PRUNE_EVERY_MS) return;

    this.lastPruneMs = nowMs;
    for (const [id, period] of this.periods) {
      const idle = period.reservations.size === 0 && !period.dirty;
      if (idle && period.keepUntilMs < nowMs) this.periods.delete(id);
    }
    this.disk.prune(nowMs);
  }

  private changed(period: PeriodState): void {
    if (!period.dirty) return;

    this.unsaved.add(period);
    this.scheduleCommit();
  }

  // Resolves once the changes made so far are committed.
  private committed(operation: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ operation, resolve, reject });
      this.scheduleCommit();
    });
  }

  // Every operation of this event-loop turn joins the same commit.
  private scheduleCommit(): void {
    if (this.commitScheduled) return;

    this.commitScheduled = true;
    setImmediate(() => this.commitNow());
  }

  // A failed commit leaves its periods unsaved, so the next commit writes
  // them whole: memory stays the truth, and the file catches up.
  private commitNow(): void {
    this.commitScheduled = false;
    const periods = [...this.unsaved];
    const waiting = this.waiting;
    this.unsaved.clear();
    this.waiting = [];

    try {
      if (periods.length > 0 && this.disk.open) {
        this.disk.commit(periods.map((period) => period.takeWrite()));
      }
    } catch (error) {
      for (const period of periods) {
        period.unsaved();
        this.unsaved.add(period);
      }
      for (const waiter of waiting) {
        waiter.reject(new BudgetStoreError(waiter.operation, this.backend, error));
      }
      return;
    }
    for (const waiter of waiting) waiter.resolve();
  }
}

function periodId(tenant: string, startMs: number): string {
  return `${startMs}:${tenant}`;
}
