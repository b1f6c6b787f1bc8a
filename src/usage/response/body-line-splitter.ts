const LF = 0x0a;
const CR = 0x0d;

/** Receives one finished line, without its terminator. Returns false to stop splitting. */
export type LineHandler = (line: Uint8Array) => boolean;

/**
 * Splits a byte stream into lines, however it is cut into chunks. Works on
 * bytes, before any text decoding: CR and LF never occur inside a multi-byte
 * UTF-8 character, so a character split between chunks is never split between
 * lines. Only the unfinished last line is kept between chunks.
 *
 * With `crEndsLine` (SSE), a line ends at CRLF, LF or a lone CR, and a CRLF
 * split between two chunks counts once. Without it (NDJSON), a line ends at LF
 * and a CR before the LF is dropped.
 */
export class BodyLineSplitter {
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private skipLf = false;

  constructor(private readonly crEndsLine: boolean) {}

  /** Bytes of the unfinished line held between chunks. */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  /** Splits `chunk`, handing each finished line to `onLine`; false when it stopped. */
  push(chunk: Uint8Array, onLine: LineHandler): boolean {
    let start = 0;
    if (this.skipLf && chunk.length > 0) {
      if (chunk[0] === LF) start = 1;
      this.skipLf = false;
    }

    const ends = new LineEnds(chunk, this.crEndsLine);
    for (let end = ends.next(start); end !== -1; end = ends.next(start)) {
      if (!onLine(this.finishLine(chunk.subarray(start, end)))) return false;

      start = end + 1;
      if (chunk[end] === CR && start < chunk.length && chunk[start] === LF) start += 1;
      else if (chunk[end] === CR && start === chunk.length) this.skipLf = true;
    }

    this.keep(chunk.subarray(start));
    return true;
  }

  /** Hands the unfinished last line, if any, to `onLine` (at the end of the body). */
  flush(onLine: LineHandler): boolean {
    if (this.pendingLength === 0) return true;
    return onLine(this.finishLine(new Uint8Array(0)));
  }

  /** Drops the unfinished line. */
  clear(): void {
    this.pending = [];
    this.pendingLength = 0;
  }

  private keep(tail: Uint8Array): void {
    if (tail.length === 0) return;

    // A copy, so that the caller's chunk buffer is never retained or aliased.
    this.pending.push(new Uint8Array(tail));
    this.pendingLength += tail.length;
  }

  private finishLine(last: Uint8Array): Uint8Array {
    let line = last;
    if (this.pendingLength > 0) {
      line = Buffer.concat([...this.pending, last]);
      this.clear();
    }

    const ends = line.length - 1;
    if (!this.crEndsLine && ends >= 0 && line[ends] === CR) return line.subarray(0, ends);
    return line;
  }
}

// Finds line ends left to right, remembering the next CR and LF positions so
// that a chunk of many lines is scanned once, not once per line.
class LineEnds {
  private nextLf = -2;
  private nextCr = -2;

  constructor(
    private readonly chunk: Uint8Array,
    private readonly crEndsLine: boolean,
  ) {}

  next(from: number): number {
    if (this.nextLf !== -1 && this.nextLf < from) this.nextLf = this.chunk.indexOf(LF, from);
    if (!this.crEndsLine) return this.nextLf;

    if (this.nextCr !== -1 && this.nextCr < from) this.nextCr = this.chunk.indexOf(CR, from);
    if (this.nextLf === -1) return this.nextCr;
    if (this.nextCr === -1) return this.nextLf;
    return Math.min(this.nextLf, this.nextCr);
  }
}
