/**
 * Which warnings a service has logged already, so that a misconfiguration or
 * a broken provider warns once per process, not once per request.
 */
export class OnceWarnings {
  private readonly seen = new Set<string>();

  /** True the first time `key` is asked about, false ever after. */
  first(key: string): boolean {
    if (this.seen.has(key)) return false;

    this.seen.add(key);
    return true;
  }
}
