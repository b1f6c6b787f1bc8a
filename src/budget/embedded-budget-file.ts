import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

/**
 * How long opening the file waits for another process's lock. The embedded
 * store holds its file's lock for as long as it is open, so a lock still held
 * after this wait belongs to another running process.
 */
const LOCK_WAIT_MS = 100;

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
CREATE TABLE IF NOT EXISTS budget_alert_marks (
  tenant TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  threshold TEXT NOT NULL,
  keep_until INTEGER NOT NULL,
  PRIMARY KEY (tenant, period_start, threshold)
) WITHOUT ROWID;
-- Open reservations are no longer written; a file from before keeps a stale table.
DROP TABLE IF EXISTS budget_reservations;
`;

/** A period's row, as read from the file. */
export interface PeriodRow {
  readonly used: number;
  readonly endMs: number;
  readonly keepUntilMs: number;
  /** Alert thresholds (as written by `String(threshold)`) already fired. */
  readonly marks: readonly string[];
}

/** A period's row to write: its settled usage, and the alert marks that changed. */
export interface PeriodWrite {
  readonly tenant: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly keepUntilMs: number;
  readonly used: number;
  /** Drop the period's alert marks before adding `newMarks` (a reset). */
  readonly marksCleared: boolean;
  readonly newMarks: readonly string[];
}

/** The file opened and locked by another process. */
export class BudgetFileLockedError extends Error {
  override readonly name = 'BudgetFileLockedError';

  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `budget store file ${file} is in use by another process: the embedded store ` +
        'serves one tollgate process. Give each process its own file, or share ' +
        'budgets between processes with budgets.store {backend: redis}',
      { cause },
    );
  }
}

/**
 * The embedded store's SQLite file (better-sqlite3, WAL, `synchronous=NORMAL`:
 * a committed write survives a crash of the process, a power cut may lose the
 * last moments). The file holds settled usage and fired alert marks; open
 * reservations live in the memory of the one process that holds the file.
 *
 * `locking_mode=EXCLUSIVE` takes the file's lock at open and keeps it until
 * close: no other process can change the counts, so the process may keep
 * them in memory, and each commit skips the lock and shared-memory calls a
 * shared file needs.
 */
export class EmbeddedBudgetFile {
  private readonly db: Database.Database;
  private readonly sql: ReturnType<typeof prepare>;
  private readonly writeAll: (writes: Iterable<PeriodWrite>) => void;

  /** Opens (creating when needed) and locks the file; throws when it cannot. */
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    try {
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
      // In exclusive mode the write lock, once taken, is kept until close.
      this.db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (error) {
      this.db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new BudgetFileLockedError(file, error);
      }
      throw error;
    }

    this.sql = prepare(this.db);
    this.writeAll = this.db.transaction((writes: Iterable<PeriodWrite>) => {
      for (const write of writes) this.write(write);
    });
  }

  /** The period's row, or undefined when the file has none. */
  read(tenant: string, startMs: number): PeriodRow | undefined {
    const row = this.sql.period.get(tenant, startMs) as
      { used: number; period_end: number; keep_until: number } | undefined;
    if (!row) return undefined;

    const marks = this.sql.marks.all(tenant, startMs) as Array<{ threshold: string }>;
    return {
      used: row.used,
      endMs: row.period_end,
      keepUntilMs: row.keep_until,
      marks: marks.map((mark) => mark.threshold),
    };
  }

  /** Writes every period in one transaction: all of them are committed, or none. */
  commit(writes: Iterable<PeriodWrite>): void {
    this.writeAll(writes);
  }

  /** Tenants with a period that has not ended at `nowMs`. */
  activeTenants(nowMs: number): string[] {
    const rows = this.sql.activeTenants.all(nowMs, nowMs) as Array<{ tenant: string }>;
    return rows.map((row) => row.tenant);
  }

  /** Deletes periods and alert marks kept until before `nowMs`. */
  prune(nowMs: number): void {
    this.sql.prunePeriods.run(nowMs);
    this.sql.pruneAlertMarks.run(nowMs);
  }

  get open(): boolean {
    return this.db.open;
  }

  /** Closes the file, releasing its lock. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private write(period: PeriodWrite): void {
    const { tenant, startMs, keepUntilMs } = period;
    this.sql.upsertPeriod.run(tenant, startMs, period.endMs, keepUntilMs, period.used);
    if (period.marksCleared) this.sql.dropAlertMarks.run(tenant, startMs);
    for (const mark of period.newMarks) this.sql.markAlert.run(tenant, startMs, mark, keepUntilMs);
  }
}

function prepare(db: Database.Database) {
  return {
    period: db.prepare(
      'SELECT used, period_end, keep_until FROM budget_periods ' +
        'WHERE tenant = ? AND period_start = ?',
    ),
    marks: db.prepare(
      'SELECT threshold FROM budget_alert_marks WHERE tenant = ? AND period_start = ?',
    ),
    upsertPeriod: db.prepare(
      'INSERT INTO budget_periods (tenant, period_start, period_end, keep_until, used) ' +
        'VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, period_start) ' +
        'DO UPDATE SET used = excluded.used',
    ),
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
