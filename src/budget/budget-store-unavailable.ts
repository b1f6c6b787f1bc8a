/** The backends a budget store can run on. */
export type BudgetBackend = 'embedded' | 'redis';

/**
 * A budget store operation that could not complete: Redis unreachable or too
 * slow, the SQLite file locked past its busy timeout or unwritable. The
 * ledger turns it into an `unavailable` admission (fail open or closed, as
 * configured); it is never a bug in the caller.
 */
export class BudgetStoreUnavailable extends Error {
  override readonly name = 'BudgetStoreUnavailable';

  constructor(
    /** Which store failed. */
    readonly backend: BudgetBackend,
    /** The operation that failed: reserve, settle, release, usage, reset or tenants. */
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `the ${backend} budget store could not ${operation}: ${messageOf(cause)}; ` +
        `check that the store is reachable and writable`,
      { cause },
    );
  }
}

/** Type guard that survives module duplication (checks the name, not the prototype). */
export function isBudgetStoreUnavailable(value: unknown): value is BudgetStoreUnavailable {
  return value instanceof Error && value.name === 'BudgetStoreUnavailable';
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
