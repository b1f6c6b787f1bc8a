import { DuplicateExportError } from './duplicate-export-error.js';
import type { QualifiedId } from './qualified-id.js';
import { Registry } from './registry.js';
import { ScopedLookup, ScopedView, type ScopedEntry } from './scoped-view.js';

/** An item to put in a scoped registry by {@link ScopedRegistry.replaceAll}. */
export interface ScopedItem<T> {
  readonly id: QualifiedId;
  readonly item: T;
  /** Visible from every scope under its name; false by default. */
  readonly exported?: boolean;
}

/**
 * Items defined at global, namespace and service scope, resolved per request
 * from the request's scope (see {@link ScopedLookup.resolveEntry}).
 *
 * Entries are kept by canonical id, exports by exported name. Both live in
 * {@link Registry} instances, so snapshots cost O(1) and stay unchanged by
 * later writes; every write touches both maps within one synchronous call,
 * so no reader ever sees an entry without its export or the reverse.
 */
export class ScopedRegistry<T> extends ScopedLookup<T> {
  private readonly entryStore = new Registry<ScopedEntry<T>>();
  private readonly exportStore = new Registry<QualifiedId>();

  /**
   * Stores `item` under `id`, not exported; returns the item it replaced. If
   * the replaced item was exported, its export goes with it: each insert
   * says afresh whether the item at that id is exported.
   */
  insert(id: QualifiedId, item: T): T | undefined {
    const previous = this.entryStore.insert(id.canonical, { id, item, exported: false });

    if (previous?.exported) this.exportStore.remove(id.name);
    return previous?.item;
  }

  /**
   * Stores `item` under `id` and exports it under `id.name`, so that every
   * scope can resolve it; returns the item it replaced. Throws a
   * {@link DuplicateExportError} naming both ids, and changes nothing, when
   * another id already exports that name.
   */
  insertExported(id: QualifiedId, item: T): T | undefined {
    const exporter = this.exportStore.get(id.name);
    if (exporter && !exporter.equals(id)) throw new DuplicateExportError(id.name, exporter, id);

    const previous = this.entryStore.insert(id.canonical, { id, item, exported: true });
    this.exportStore.insert(id.name, id);
    return previous?.item;
  }

  /** Removes the item under `id` and its export, nothing else; returns the removed item. */
  remove(id: QualifiedId): T | undefined {
    const removed = this.entryStore.remove(id.canonical);

    if (removed?.exported) this.exportStore.remove(id.name);
    return removed?.item;
  }

  /**
   * Replaces every item and export at once (a hot reload) and returns a view
   * of what was live until now. Everything is checked first: a
   * {@link DuplicateExportError} leaves the registry unchanged. An id listed
   * twice keeps its last item.
   */
  replaceAll(items: Iterable<ScopedItem<T>>): ScopedView<T> {
    const entries = new Map<string, ScopedEntry<T>>();
    for (const { id, item, exported = false } of items) {
      entries.set(id.canonical, { id, item, exported });
    }
    const exports = exportsOf(entries.values());

    const old = new ScopedView(this.entryStore.snapshot(), this.exportStore.snapshot());
    this.entryStore.replaceAll(entries);
    this.exportStore.replaceAll(exports);
    return old;
  }

  /** A point-in-time view that later changes do not affect. O(1). */
  snapshot(): ScopedView<T> {
    return new ScopedView(this.entryStore.snapshot(), this.exportStore.snapshot());
  }

  protected entryAt(canonical: string): ScopedEntry<T> | undefined {
    return this.entryStore.get(canonical);
  }

  protected exporterOf(name: string): QualifiedId | undefined {
    return this.exportStore.get(name);
  }

  protected allEntries(): Iterable<ScopedEntry<T>> {
    return this.entryStore.withRead((entries) => [...entries.values()]);
  }

  protected count(): number {
    return this.entryStore.len();
  }
}

/** Exported name → exporting id; throws a {@link DuplicateExportError} on a clash. */
export function exportsOf<T>(entries: Iterable<ScopedEntry<T>>): Map<string, QualifiedId> {
  const exports = new Map<string, QualifiedId>();

  for (const { id, exported } of entries) {
    if (!exported) continue;

    const exporter = exports.get(id.name);
    if (exporter) throw new DuplicateExportError(id.name, exporter, id);
    exports.set(id.name, id);
  }
  return exports;
}
