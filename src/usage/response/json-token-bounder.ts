const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LETTER_U = 0x75;

const enum State {
  Outside,
  InString,
  AfterBackslash,
  InUnicodeEscape,
  Dropping,
  DroppingAfterBackslash,
}

/** Receives one kept run of bytes, in order. */
export type KeptBytes = (part: Uint8Array) => void;

/**
 * Sits in front of a streaming JSON tokenizer so that no single token makes it
 * hold more than `limit` bytes, because a tokenizer holds each string and
 * number whole until it ends. It passes the bytes through except:
 *
 * - a string's content past `limit` bytes is dropped up to its closing quote,
 *   cut only between characters and never inside an escape, so the string
 *   stays valid JSON (just shorter; usage lives in numbers and short names);
 * - whitespace past `limit` bytes in a row is dropped;
 * - a number or literal longer than `limit` cannot be shortened without
 *   changing it, so it makes {@link JsonTokenBounder.write} return false.
 */
export class JsonTokenBounder {
  private state = State.Outside;
  private run = 0;
  private unicodeDigits = 0;
  private whitespace = 0;

  constructor(private readonly limit: number) {}

  /** Bytes of the current token passed on so far. */
  get tokenBytes(): number {
    return Math.min(Math.max(this.run, this.whitespace), this.limit);
  }

  /** Passes on the kept parts of `chunk`; false when a number or literal ran too long. */
  write(chunk: Uint8Array, keep: KeptBytes): boolean {
    let keptFrom = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i] as number;
      const dropping = this.isDropping();
      const verdict = this.step(byte);
      if (verdict === 'overflow') return false;

      if (verdict === 'drop' && !dropping) keepRange(chunk, keptFrom, i, keep);
      if (verdict === 'drop') keptFrom = i + 1;
    }

    keepRange(chunk, keptFrom, chunk.length, keep);
    return true;
  }

  private isDropping(): boolean {
    return this.state === State.Dropping || this.state === State.DroppingAfterBackslash;
  }

  private step(byte: number): 'keep' | 'drop' | 'overflow' {
    switch (this.state) {
      case State.Outside:
        return this.stepOutside(byte);
      case State.InString:
        return this.stepInString(byte);
      case State.AfterBackslash:
        this.state = byte === LETTER_U ? State.InUnicodeEscape : State.InString;
        this.unicodeDigits = byte === LETTER_U ? 4 : 0;
        this.run += 1;
        return 'keep';
      case State.InUnicodeEscape:
        this.unicodeDigits -= 1;
        if (this.unicodeDigits === 0) this.state = State.InString;
        this.run += 1;
        return 'keep';
      case State.Dropping:
        return this.stepDropping(byte);
      case State.DroppingAfterBackslash:
        this.state = State.Dropping;
        return 'drop';
    }
  }

  private stepOutside(byte: number): 'keep' | 'drop' | 'overflow' {
    if (isWhitespace(byte)) {
      this.run = 0;
      this.whitespace += 1;
      return this.whitespace > this.limit ? 'drop' : 'keep';
    }

    this.whitespace = 0;
    if (byte === QUOTE) {
      this.state = State.InString;
      this.run = 0;
      return 'keep';
    }

    this.run = isStructural(byte) ? 0 : this.run + 1;
    return this.run > this.limit ? 'overflow' : 'keep';
  }

  private stepInString(byte: number): 'keep' | 'drop' {
    if (byte === QUOTE) {
      this.state = State.Outside;
      this.run = 0;
      return 'keep';
    }

    if (this.run >= this.limit && !isContinuationByte(byte)) return this.stepDropping(byte);

    if (byte === BACKSLASH) this.state = State.AfterBackslash;
    this.run += 1;
    return 'keep';
  }

  private stepDropping(byte: number): 'keep' | 'drop' {
    if (byte === QUOTE) {
      this.state = State.Outside;
      this.run = 0;
      return 'keep';
    }

    this.state = byte === BACKSLASH ? State.DroppingAfterBackslash : State.Dropping;
    return 'drop';
  }
}

function keepRange(chunk: Uint8Array, from: number, to: number, keep: KeptBytes): void {
  if (to > from) keep(chunk.subarray(from, to));
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

// { } [ ] : ,
function isStructural(byte: number): boolean {
  return (
    byte === 0x7b ||
    byte === 0x7d ||
    byte === 0x5b ||
    byte === 0x5d ||
    byte === 0x3a ||
    byte === 0x2c
  );
}

// The second to fourth bytes of a multi-byte UTF-8 character: 10xxxxxx.
function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
