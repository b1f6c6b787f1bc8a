/**
 * A configured secret (a webhook token, the admin token). It prints as `[redacted]` in logs,
 * JSON and string conversions; only {@link SecretValue.reveal} gives the text.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself, for the one place that sends it. */
  reveal(): string {
    return this.#value;
  }

  /** What logs and serialised configs show. */
  toJSON(): string {
    return '[redacted]';
  }

  /** What string conversions show. */
  toString(): string {
    return '[redacted]';
  }
}
