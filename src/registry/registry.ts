import { ReadOnlyMapView } from './read-only-map.js';

/**
 * A store of named, shared components (breaker settings, price lists, ...).
 *
 * Node runs one piece of JavaScript at a time, so "safe to share" means two
 * things here: no caller ever sees a half-applied change (every write,
 * {@link replaceAll} and {@link withWrite} included, becomes visible in one
 * step), and a {@link snapshot} keeps showing the items it was taken with
 * whatever happens to the registry afterwards.
 *
 * Snapshots are copy-on-write: taking one costs nothing; the first write after
 * it copies the map once.
 */
export class Registry<T> {
  private items: Map<string, T>;

  /** Whether a snapshot still looks at `items`, so the next write must copy it first. */
  private shared = false;

  /** Starts with `initial` entries (a later duplicate key wins), or empty. */
  constructor(initial: Iterable<readonly [string, T]> = []) {
    this.items = new Map(initial);
  }

  /** Stores `item` under `key`; returns the item it replaced, if any. */
  insert(key: string, item: T): T | undefined {
    const items = this.writable();
    const previous = items.get(key);

    items.set(key, item);
    return previous;
  }

  /** The item under `key`, if any. */
  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Whether an item is stored under `key`. */
  contains(key: string): boolean {
    return this.items.has(key);
  }

  /** Removes the item under `key`; returns it, or undefined if there was none. */
  remove(key: string): T | undefined {
    if (!this.items.has(key)) return undefined;

    const items = this.writable();
    const removed = items.get(key);
    items.delete(key);
    return removed;
  }

  /** Every key, in insertion order. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** How many items are stored. */
  len(): number {
    return this.items.size;
  }

  /**
   * Replaces every item at once (hot reload): readers see either all the old
   * items or all the new ones. Returns the old items, which stay usable, for
   * example to finish the requests that started with them.
   */
  replaceAll(items: Iterable<readonly [string, T]>): ReadonlyMap<string, T> {
    const next = new Map(items);
    const old = this.items;

    this.items = next;
    this.shared = false;
    return new ReadOnlyMapView(old);
  }

  /** A point-in-time copy: later inserts, removals and replacements do not change it. */
  snapshot(): ReadonlyMap<string, T> {
    this.shared = true;
    return new ReadOnlyMapView(this.items);
  }

  /**
   * Runs `read` over the whole map and returns its result. The map it gets is
   * a snapshot, so keeping it past the callback is safe.
   */
  withRead<R>(read: (items: ReadonlyMap<string, T>) => R): R {
    return read(this.snapshot());
  }

  /**
   * Runs `write` over a draft of the whole map and makes the draft live when
   * `write` returns: all of its changes appear at once, and none do if it
   * throws. `write` must be synchronous and must not keep the draft; a
   * returned promise is a `TypeError` and its changes are discarded.
   */
  withWrite<R>(write: (items: Map<string, T>) => R): R {
    const draft = new Map(this.items);
    const result = write(draft);
    if (isThenable(result)) {
      throw new TypeError(
        'the Registry.withWrite callback must be synchronous: a change made after an await ' +
          'would land outside the atomic write; compute the change first, then write',
      );
    }

    this.items = draft;
    this.shared = false;
    return result;
  }

  /** The live map, copied first if a snapshot still looks at it. */
  private writable(): Map<string, T> {
    if (this.shared) {
      this.items = new Map(this.items);
      this.shared = false;
    }
    return this.items;
  }
}

function isThenable(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
