/** The label value for everything past the cap. */
export const OTHER_LABEL = 'other';

/**
 * Keeps a metric label's distinct values bounded: the first `max` distinct
 * values are kept as they are, later new ones become `other`. Model names come
 * from requests and responses, so without a bound a client or a misbehaving
 * upstream could grow the metrics without end.
 */
export class LabelGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** The label value to use for `value`. */
  label(value: string | undefined): string {
    if (value === undefined || value === '') return 'unknown';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || !PRINTABLE.test(value)) return OTHER_LABEL;

    this.seen.add(value);
    return value;
  }
}

// Model names are short and printable; anything else is not worth a series.
const PRINTABLE = /^[\x21-\x7e]{1,128}$/;
