/** What a soak phase found: figures to print and the checks that failed. */
export class SoakReport {
  readonly figures: Array<[string, string]> = [];
  readonly problems: string[] = [];

  constructor(readonly phase: string) {}

  /** Records a figure to print. */
  note(name: string, value: string | number): void {
    this.figures.push([name, String(value)]);
  }

  /** Records a problem unless `holds`. */
  expect(holds: boolean, problem: string): void {
    if (!holds) this.problems.push(problem);
  }

  /** The report as text lines. */
  lines(): string[] {
    const width = Math.max(...this.figures.map(([name]) => name.length), 0);
    const verdict = this.problems.length === 0 ? 'ok' : `FAILED (${this.problems.length})`;
    return [
      `${this.phase}: ${verdict}`,
      ...this.figures.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
      ...this.problems.map((problem) => `  problem: ${problem}`),
    ];
  }
}

/** Mebibytes with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
