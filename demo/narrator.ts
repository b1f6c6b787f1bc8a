/** A demo step that did not behave as expected: what was expected, and what happened. */
export class DemoCheckFailed extends Error {
  override readonly name = 'DemoCheckFailed';
}

const INDENT = '   ';
const LABEL_WIDTH = 12;
/** Lines longer than this are wrapped at a space, continued under their text. */
const WIDTH = 100;

/**
 * Prints the scenario in plain text, one line at a time, and checks each fact
 * it states: a fact that does not hold throws {@link DemoCheckFailed}, so the
 * demo doubles as an end-to-end check.
 */
export class Narrator {
  private current = '';

  constructor(private readonly write: (line: string) => void) {}

  /** The step being told, e.g. `3. A budget runs out`, for failure messages. */
  get step(): string {
    return this.current;
  }

  /** A heading line with no indentation. */
  title(text: string): void {
    this.write(text);
  }

  /** Starts a step: a blank line, its numbered title, and what it shows. */
  begin(number: number, title: string, ...explanation: string[]): void {
    this.current = `${number}. ${title}`;
    this.write('');
    this.write(this.current);
    for (const line of explanation) this.write(`${INDENT}${line}`);
  }

  /** A line of narration inside a step, after a blank line. */
  paragraph(text: string): void {
    this.write('');
    this.write(`${INDENT}${text}`);
  }

  /** A labelled detail line, indented under the current paragraph. */
  detail(label: string, text: string): void {
    this.wrapped(`${INDENT}  ${label.padEnd(LABEL_WIDTH)}`, text);
  }

  /** Checks `holds`; prints `ok  fact`, or throws with the fact and what was seen instead. */
  check(holds: boolean, fact: string, seen?: unknown): void {
    if (!holds) {
      const got = seen === undefined ? '' : `; saw ${describe(seen)}`;
      throw new DemoCheckFailed(`expected: ${fact}${got}`);
    }
    this.wrapped(`${INDENT}ok  `, fact);
  }

  /** A plain line at the top level (the run's end). */
  line(text = ''): void {
    this.write(text);
  }

  /** Writes `prefix` + `text`, wrapped at spaces so that lines stay within {@link WIDTH}. */
  private wrapped(prefix: string, text: string): void {
    const room = Math.max(WIDTH - prefix.length, 20);
    let rest = text;
    let lead = prefix;
    while (rest.length > room) {
      // A list breaks after a comma, so that no item is split over two lines.
      const comma = rest.lastIndexOf(', ', room - 1);
      const cut = comma > 0 ? comma + 1 : rest.lastIndexOf(' ', room);
      if (cut <= 0) break;

      this.write(`${lead}${rest.slice(0, cut)}`);
      rest = rest.slice(cut + 1);
      lead = ' '.repeat(prefix.length);
    }
    this.write(`${lead}${rest}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
