import type { QualifiedId } from './qualified-id.js';

/**
 * Two items were exported under the same name. Exported names are visible
 * from every scope, so resolution would depend on which came first; the
 * second export is refused instead, naming both places.
 */
export class DuplicateExportError extends Error {
  override readonly name = 'DuplicateExportError';

  constructor(
    /** The exported name both items claim. */
    readonly exportedName: string,
    /** The item that already exports the name. */
    readonly existing: QualifiedId,
    /** The item whose export was refused. */
    readonly refused: QualifiedId,
  ) {
    super(
      `${JSON.stringify(exportedName)} is exported by both ${existing.canonical} and ` +
        `${refused.canonical}; export it from one scope only, or rename one of them`,
    );
  }
}

/** Type guard that survives module duplication (checks the name, not the prototype). */
export function isDuplicateExportError(value: unknown): value is DuplicateExportError {
  return value instanceof Error && value.name === 'DuplicateExportError';
}
