import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

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

/** How often ended periods past their keep time are deleted. */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * How long a write waits for another process holding the file's write lock.
 * better-sqlite3 waits synchronously, stopping every stream of this process
 * meanwhile; each operation holds the lock for well under a millisecond, so
 * a longer wait means a stuck writer, and the operation fails as a store
 * error (handled by `on_store_error`) rather than freezing the sidecar.
 */
const BUSY_TIMEOUT_MS = 100;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_periods (
  tenant TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  keep_until INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, period_start)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS budget_periods_end ON budget_periods (period_end);
CREATE TABLE IF NOT EXISTS budget_reservations (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_reservations_period
  ON budget_reservations (tenant, period_start);
CREATE INDEX IF NOT EXISTS budget_reservations_expiry ON budget_reservations (expires_at);
CREATE TABLE IF NOT EXISTS budget_alert_marks (
  tenant TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  threshold TEXT NOT NULL,
  keep_until INTEGER NOT NULL,
  PRIMARY KEY (tenant, period_start, threshold)
) WITHOUT ROWID;
`;

type Statements = ReturnType<typeof prepare>;

/**
 * The budget store in one SQLite file (better-sqlite3). Durable across
 * restarts; WAL mode and `BEGIN IMMEDIATE` transactions make every
 * operation atomic even when several processes open the same file.
 * `synchronous=NORMAL`: a process crash loses nothing; a power cut may lose
 * the last moments of usage.
 */
export class EmbeddedBudgetStore implements BudgetStore {
  readonly backend = 'embedded';
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private lastPruneMs = 0;

  /** Opens (creating when needed) the file and its folder; throws when it cannot. */
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.sql = prepare(this.db);
  }

  reserve(key: PeriodKey, rule: CeilingRule, request: ReserveRequest): Promise<ReserveOutcome> {
    return this.atomically('reserve', () => {
      this.sweep(request.nowMs);
      this.pruneNowAndThen(request.nowMs);

      const usage = this.read(key, rule);
      const total = usage.used + usage.reserved + request.estimate;
      const admitted = !rule.enforce || total <= ceilingOf(rule, usage.allowance);
      if (!admitted || request.dryRun) return { admitted, ...usage };

      this.sql.touchPeriod.run(key.tenant, key.startMs, key.endMs, key.keepUntilMs);
      this.sql.addReservation.run(
        request.reservationId,
        key.tenant,
        key.startMs,
        request.estimate,
        request.expiresAtMs,
      );
      return { admitted, ...usage, reserved: usage.reserved + request.estimate };
    });
  }

  settle(key: PeriodKey, rule: CeilingRule, request: SettleRequest): Promise<SettleOutcome> {
    return this.atomically('settle', () => {
      this.sweep(request.nowMs);
      this.sql.dropReservation.run(request.reservationId);
      this.sql.touchPeriod.run(key.tenant, key.startMs, key.endMs, key.keepUntilMs);

      const usedBefore = this.usedIn(key.tenant, key.startMs) ?? 0;
      this.sql.addUsed.run(request.tokens, key.tenant, key.startMs);
      const usage = this.read(key, rule);

      const fired = request.thresholds.filter(
        (threshold) =>
          usage.used >= threshold * rule.limit &&
          this.sql.markAlert.run(key.tenant, key.startMs, String(threshold), key.keepUntilMs)
            .changes === 1,
      );
      return { usedBefore, usedAfter: usage.used, ...usage, fired };
    });
  }

  extend(key: PeriodKey, reservationId: string, expiresAtMs: number): Promise<void> {
    return this.atomically('extend', () => {
      this.sql.extendReservation.run(expiresAtMs, reservationId);
    });
  }

  release(key: PeriodKey, reservationId: string): Promise<void> {
    return this.atomically('release', () => {
      this.sql.dropReservation.run(reservationId);
    });
  }

  usage(key: PeriodKey, rule: CeilingRule, nowMs: number): Promise<PeriodUsage> {
    return this.atomically('read usage', () => {
      this.sweep(nowMs);
      return this.read(key, rule);
    });
  }

  reset(key: PeriodKey): Promise<void> {
    return this.atomically('reset', () => {
      this.sql.dropPeriodReservations.run(key.tenant, key.startMs);
      this.sql.dropAlertMarks.run(key.tenant, key.startMs);
      this.sql.touchPeriod.run(key.tenant, key.startMs, key.endMs, key.keepUntilMs);
      this.sql.zeroUsed.run(key.tenant, key.startMs);
    });
  }

  activeTenants(nowMs: number): Promise<string[]> {
    return this.atomically('list tenants', () =>
      (this.sql.activeTenants.all(nowMs, nowMs) as Array<{ tenant: string }>).map(
        (row) => row.tenant,
      ),
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // One `BEGIN IMMEDIATE` transaction: the write lock is taken before the
  // first read, so no other connection can change the counts in between.
  private atomically<T>(operation: string, step: () => T): Promise<T> {
    try {
      return Promise.resolve(this.db.transaction(step).immediate());
    } catch (error) {
      return Promise.reject(new BudgetStoreError(operation, this.backend, error));
    }
  }

  private read(key: PeriodKey, rule: CeilingRule): PeriodUsage {
    const previous = rule.rollover ? this.usedIn(key.tenant, key.previousStartMs) : undefined;
    const reserved = this.sql.reservedIn.get(key.tenant, key.startMs) as { total: number };
    return {
      used: this.usedIn(key.tenant, key.startMs) ?? 0,
      reserved: reserved.total,
      allowance: allowanceOf(rule, previous),
    };
  }

  private usedIn(tenant: string, startMs: number): number | undefined {
    const row = this.sql.usedIn.get(tenant, startMs) as { used: number } | undefined;
    return row?.used;
  }

  private sweep(nowMs: number): void {
    this.sql.sweepReservations.run(nowMs);
  }

  private pruneNowAndThen(nowMs: number): void {
    if (nowMs - this.lastPruneMs < PRUNE_EVERY_MS) return;

    this.lastPruneMs = nowMs;
    this.sql.prunePeriods.run(nowMs);
    this.sql.pruneAlertMarks.run(nowMs);
  }
}

function prepare(db: Database.Database) {
  return {
    usedIn: db.prepare('SELECT used FROM budget_periods WHERE tenant = ? AND period_start = ?'),
    reservedIn: db.prepare(
      'SELECT COALESCE(SUM(tokens), 0) AS total FROM budget_reservations ' +
        'WHERE tenant = ? AND period_start = ?',
    ),
    touchPeriod: db.prepare(
      'INSERT INTO budget_periods (tenant, period_start, period_end, keep_until) ' +
        'VALUES (?, ?, ?, ?) ON CONFLICT (tenant, period_start) DO NOTHING',
    ),
    addUsed: db.prepare(
      'UPDATE budget_periods SET used = used + ? WHERE tenant = ? AND period_start = ?',
    ),
    zeroUsed: db.prepare(
      'UPDATE budget_periods SET used = 0 WHERE tenant = ? AND period_start = ?',
    ),
    addReservation: db.prepare(
      'INSERT INTO budget_reservations (id, tenant, period_start, tokens, expires_at) ' +
        'VALUES (?, ?, ?, ?, ?)',
    ),
    dropReservation: db.prepare('DELETE FROM budget_reservations WHERE id = ?'),
    extendReservation: db.prepare('UPDATE budget_reservations SET expires_at = ? WHERE id = ?'),
    dropPeriodReservations: db.prepare(
      'DELETE FROM budget_reservations WHERE tenant = ? AND period_start = ?',
    ),
    sweepReservations: db.prepare('DELETE FROM budget_reservations WHERE expires_at <= ?'),
    markAlert: db.prepare(
      'INSERT INTO budget_alert_marks (tenant, period_start, threshold, keep_until) ' +
        'VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    dropAlertMarks: db.prepare(
      'DELETE FROM budget_alert_marks WHERE tenant = ? AND period_start = ?',
    ),
    activeTenants: db.prepare(
      'SELECT DISTINCT tenant FROM budget_periods ' +
        'WHERE period_start <= ? AND period_end > ? ORDER BY tenant',
    ),
    prunePeriods: db.prepare('DELETE FROM budget_periods WHERE keep_until < ?'),
    pruneAlertMarks: db.prepare('DELETE FROM budget_alert_marks WHERE keep_until < ?'),
  };
}
