import { readCount } from '../usage-values.js';

/**
 * The longest model name trusted from a response. Model names become log
 * fields and metric labels, so an oversized one is rejected, not stored.
 */
export const MAX_MODEL_NAME_LENGTH = 256;

/**
 * Reads fields of one parsed JSON document by dotted path
 * (`usage.prompt_tokens_details.cached_tokens`), and remembers the path of
 * every field it found but did not trust.
 */
export class FieldReader {
  private readonly untrusted = new Set<string>();

  constructor(private readonly document: unknown) {}

  /** The paths of the fields read so far whose values were not trusted. */
  get rejected(): string[] {
    return [...this.untrusted];
  }

  /**
   * The value at `path`, or undefined when a step is missing or is not a JSON
   * object (arrays are not stepped into).
   */
  value(path: string): unknown {
    let current: unknown = this.document;
    for (const key of path.split('.')) {
      if (!isJsonObject(current) || !Object.hasOwn(current, key)) return undefined;
      current = current[key];
    }
    return current;
  }

  /** Whether the document states a value (not `null`) at `path`. */
  has(path: string): boolean {
    const value = this.value(path);
    return value !== undefined && value !== null;
  }

  /** The trusted token count at `path`; undefined when absent or rejected. */
  count(path: string): number | undefined {
    const reading = readCount(this.value(path));
    if (reading.kind === 'rejected') this.untrusted.add(path);
    return reading.kind === 'trusted' ? reading.value : undefined;
  }

  /**
   * The sum of the trusted counts at `paths`, treating an absent one as 0 (Gemini
   * omits zero counts); undefined when none of them is stated and trusted.
   */
  sum(paths: readonly string[]): number | undefined {
    let total: number | undefined;
    for (const path of paths) {
      const count = this.count(path);
      if (count !== undefined) total = (total ?? 0) + count;
    }
    return total;
  }

  /**
   * The name at `path` (a model name): a non-empty string of at most
   * {@link MAX_MODEL_NAME_LENGTH} characters. An empty string counts as absent
   * (Azure's first chunk names no model); anything else is rejected.
   */
  name(path: string): string | undefined {
    const value = this.value(path);
    if (value === undefined || value === null || value === '') return undefined;

    if (typeof value === 'string' && value.length <= MAX_MODEL_NAME_LENGTH) return value;
    this.untrusted.add(path);
    return undefined;
  }
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
