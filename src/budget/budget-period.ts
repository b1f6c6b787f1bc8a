/**
 * How long a budget lasts before it starts again. Every period is aligned to
 * the UTC calendar (or, for custom periods, to the Unix epoch), so every
 * tenant and every replica agrees on where a period starts: a tenant first
 * seen mid-period gets the current period, never a private one.
 */
export type BudgetPeriod =
  | { readonly kind: 'hourly' }
  | { readonly kind: 'daily' }
  | { readonly kind: 'monthly' }
  /** Back-to-back windows of `seconds`, the first starting at the Unix epoch. */
  | { readonly kind: 'custom'; readonly seconds: number };

/** One period: from `startMs` (inclusive) to `endMs` (exclusive), wall-clock milliseconds. */
export interface PeriodWindow {
  readonly startMs: number;
  readonly endMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The period that contains the instant `atMs`. */
export function periodAt(period: BudgetPeriod, atMs: number): PeriodWindow {
  switch (period.kind) {
    case 'hourly':
      return fixedWindow(HOUR_MS, atMs);
    case 'daily':
      return fixedWindow(DAY_MS, atMs);
    case 'custom':
      return fixedWindow(period.seconds * 1000, atMs);
    case 'monthly':
      return monthWindow(atMs);
  }
}

/** The period just before `window`. */
export function previousPeriod(period: BudgetPeriod, window: PeriodWindow): PeriodWindow {
  return periodAt(period, window.startMs - 1);
}

/** The period just after `window`. */
export function nextPeriod(period: BudgetPeriod, window: PeriodWindow): PeriodWindow {
  return periodAt(period, window.endMs);
}

/**
 * Whole seconds from `atMs` to the start of the next period, at least 1 (a
 * client told to retry after 0 seconds would retry at once).
 */
export function secondsToNextPeriod(period: BudgetPeriod, atMs: number): number {
  const { endMs } = periodAt(period, atMs);
  return Math.max(1, Math.ceil((endMs - atMs) / 1000));
}

/** A readable name for logs and errors: `daily`, `custom 14400 s`. */
export function describePeriod(period: BudgetPeriod): string {
  return period.kind === 'custom' ? `custom ${period.seconds} s` : period.kind;
}

function fixedWindow(lengthMs: number, atMs: number): PeriodWindow {
  const startMs = Math.floor(atMs / lengthMs) * lengthMs;
  return { startMs, endMs: startMs + lengthMs };
}

// Date.UTC rolls month 12 over into January of the next year, so December
// needs no special case, and real month lengths (leap February) come for free.
function monthWindow(atMs: number): PeriodWindow {
  const at = new Date(atMs);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  return { startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
}
