/**
 * The budget store could not be reached or could not complete an operation
 * (Redis down or too slow, SQLite file locked or unwritable). The ledger turns
 * it into an `unavailable` answer under the configured `on_store_error`.
 */
export class BudgetStoreError extends Error {
  override readonly name = 'BudgetStoreError';

  constructor(
    /** The store operation that failed, e.g. `reserve`. */
    readonly operation: string,
    /** Which store: `embedded` or `redis`. */
    readonly backend: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`budget store (${backend}) failed to ${operation}: ${reason}`, { cause });
  }
}

/** Type guard that survives module duplication (checks the name, not the prototype). */
export function isBudgetStoreError(value: unknown): value is BudgetStoreError {
  return value instanceof Error && value.name === 'BudgetStoreError';
}
