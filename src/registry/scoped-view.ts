import { QualifiedId } from './qualified-id.js';
import type { Scope } from './scope.js';

/** One stored item with its id and whether it is visible from every scope. */
export interface ScopedEntry<T> {
  readonly id: QualifiedId;
  readonly item: T;
  readonly exported: boolean;
}

/** The step of the resolution chain that found an item. */
export type ResolutionStep = 'service' | 'namespace' | 'exported' | 'global';

/** What a lookup resolved to, and from where (for /status). */
export interface Resolution<T> {
  readonly item: T;
  /** The id of the item found. */
  readonly id: QualifiedId;
  readonly step: ResolutionStep;
}

/**
 * The read side of a scoped registry, shared by the live registry and its
 * snapshots. Subclasses say how entries and exports are found.
 */
export abstract class ScopedLookup<T> {
  /** The entry stored under a canonical id. */
  protected abstract entryAt(canonical: string): ScopedEntry<T> | undefined;

  /** The id that exports `name`, if any. */
  protected abstract exporterOf(name: string): QualifiedId | undefined;

  /** Every entry, in insertion order. */
  protected abstract allEntries(): Iterable<ScopedEntry<T>>;

  /** How many entries there are. */
  protected abstract count(): number;

  /** The item stored under exactly this id. */
  get(id: QualifiedId): T | undefined {
    return this.entryAt(id.canonical)?.item;
  }

  /** The item stored under a canonical id. Throws a `RangeError` if the text is not a valid id. */
  getByCanonical(canonical: string): T | undefined {
    return this.get(QualifiedId.parse(canonical));
  }

  /** Whether an item is stored under exactly this id. */
  contains(id: QualifiedId): boolean {
    return this.entryAt(id.canonical) !== undefined;
  }

  /** Whether the item stored under `id` is exported. */
  isExported(id: QualifiedId): boolean {
    return this.entryAt(id.canonical)?.exported ?? false;
  }

  /** The id of the item exported as `name`, if any. */
  exporter(name: string): QualifiedId | undefined {
    return this.exporterOf(name);
  }

  /** Every stored id, in insertion order. */
  keys(): QualifiedId[] {
    return [...this.allEntries()].map((entry) => entry.id);
  }

  /** Every stored entry, in insertion order. */
  entries(): ScopedEntry<T>[] {
    return [...this.allEntries()];
  }

  /** How many items are stored. */
  len(): number {
    return this.count();
  }

  /** The item `name` resolves to from `scope`; see {@link resolveEntry}. */
  resolve(name: string, scope: Scope): T | undefined {
    return this.resolveEntry(name, scope)?.item;
  }

  /**
   * Resolves `name` from `scope`: the service's own item, then its
   * namespace's, then the item exported under that name, then the global
   * one. Steps that do not apply to the scope are skipped (a namespace scope
   * starts at its namespace, the global scope at the exports). Throws a
   * `RangeError` if the scope's namespace or service is empty or has a colon.
   */
  resolveEntry(name: string, scope: Scope): Resolution<T> | undefined {
    assertUsableScope(scope);
    // Global and namespace names cannot hold a colon, so only the service
    // step and the exports can find such a name.
    const plain = !name.includes(':');

    if (scope.kind === 'service') {
      const found = this.entryAt(`${scope.namespace}:${scope.service}:${name}`);
      if (found) return { item: found.item, id: found.id, step: 'service' };
    }
    if (scope.kind !== 'global' && plain) {
      const found = this.entryAt(`${scope.namespace}:${name}`);
      if (found) return { item: found.item, id: found.id, step: 'namespace' };
    }

    const exporter = this.exporterOf(name);
    const exported = exporter && this.entryAt(exporter.canonical);
    if (exported) return { item: exported.item, id: exported.id, step: 'exported' };

    const global = plain ? this.entryAt(name) : undefined;
    return global && { item: global.item, id: global.id, step: 'global' };
  }
}

/**
 * A scoped registry frozen at one moment: later inserts, removals and
 * replacements of the registry it came from do not show in it.
 */
export class ScopedView<T> extends ScopedLookup<T> {
  constructor(
    private readonly entryMap: ReadonlyMap<string, ScopedEntry<T>>,
    private readonly exportMap: ReadonlyMap<string, QualifiedId>,
  ) {
    super();
  }

  protected entryAt(canonical: string): ScopedEntry<T> | undefined {
    return this.entryMap.get(canonical);
  }

  protected exporterOf(name: string): QualifiedId | undefined {
    return this.exportMap.get(name);
  }

  protected allEntries(): Iterable<ScopedEntry<T>> {
    return this.entryMap.values();
  }

  protected count(): number {
    return this.entryMap.size;
  }
}

function assertUsableScope(scope: Scope): void {
  if (scope.kind === 'global') return;

  const parts = scope.kind === 'service' ? [scope.namespace, scope.service] : [scope.namespace];
  if (parts.every((part) => part !== '' && !part.includes(':'))) return;

  throw new RangeError(
    `cannot resolve from scope ${JSON.stringify(scope)}: a namespace or service is empty ` +
      'or contains ":"',
  );
}
