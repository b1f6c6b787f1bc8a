import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

/** Why a response body could not be decoded. */
export type DecodeFailure = 'unsupported_encoding' | 'decode_error' | 'decoded_too_large';

/** Receives decoded bytes, in order. */
export type DecodedBytes = (bytes: Uint8Array) => void;

/**
 * Undoes a response's `content-encoding`, handing decoded bytes to a sink as
 * they come. Never throws and never rejects; a failure is kept in `failure`.
 */
export interface BodyDecoder {
  /** Decodes one chunk. A returned promise settles once its bytes reached the sink. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Ends the body. A returned promise settles once every byte reached the sink. */
  end(): void | Promise<void>;
  /** Stops decoding, without a failure (the reader needs no more bytes). */
  stop(): void;
  /** Why decoding failed, if it did. */
  readonly failure: DecodeFailure | undefined;
}

type Coding = 'gzip' | 'deflate' | 'br';

const CODINGS: Readonly<Record<string, Coding>> = {
  gzip: 'gzip',
  'x-gzip': 'gzip',
  deflate: 'deflate',
  br: 'br',
};

/**
 * A decoder for `contentEncoding`. Absent or `identity` passes bytes through
 * synchronously. `gzip`, `x-gzip`, `deflate` (zlib-wrapped, or raw as some
 * servers send it) and `br` decode through node:zlib streams, which work off
 * the main thread, so `write` and `end` return promises: Node has no public
 * API that inflates a stream chunk by chunk synchronously. Anything else
 * (`zstd`, a list of codings) fails with `unsupported_encoding` and drops the
 * bytes. Decoded output past `maxDecodedBytes` (a decompression bomb) stops
 * decoding with `decoded_too_large`; corrupt input fails with `decode_error`.
 */
export function createBodyDecoder(
  contentEncoding: string | undefined,
  sink: DecodedBytes,
  maxDecodedBytes: number,
): BodyDecoder {
  const codings = (contentEncoding ?? '')
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding !== 'identity');

  if (codings.length === 0) return new IdentityDecoder(sink);
  const coding = codings.length === 1 ? CODINGS[codings[0] as string] : undefined;
  if (coding === undefined) return new UnsupportedDecoder();
  return new ZlibDecoder(coding, sink, maxDecodedBytes);
}

class IdentityDecoder implements BodyDecoder {
  readonly failure = undefined;
  private stopped = false;

  constructor(private readonly sink: DecodedBytes) {}

  write(chunk: Uint8Array): void {
    if (!this.stopped) this.sink(chunk);
  }

  end(): void {}

  stop(): void {
    this.stopped = true;
  }
}

class UnsupportedDecoder implements BodyDecoder {
  readonly failure = 'unsupported_encoding';

  write(): void {}

  end(): void {}

  stop(): void {}
}

class ZlibDecoder implements BodyDecoder {
  private stream: Transform | undefined;
  private closed: Promise<void> = Promise.resolve();
  private readonly waiting = new Set<() => void>();
  private head = new Uint8Array(0);
  private decoded = 0;
  private ended = false;
  private stopped = false;
  failure: DecodeFailure | undefined;

  constructor(
    private readonly coding: Coding,
    private readonly sink: DecodedBytes,
    private readonly maxDecodedBytes: number,
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    if (this.failure || this.stopped || this.ended || chunk.length === 0) return Promise.resolve();

    // Whether deflate is zlib-wrapped or raw shows in its first two bytes.
    if (!this.stream && this.coding === 'deflate' && this.head.length + chunk.length < 2) {
      this.head = Buffer.concat([this.head, chunk]);
      return Promise.resolve();
    }

    const input = this.head.length > 0 ? Buffer.concat([this.head, chunk]) : chunk;
    this.head = new Uint8Array(0);
    this.stream ??= this.open(input);
    return this.push(this.stream, input);
  }

  async end(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.flushHead();
      if (this.stream && !this.stream.destroyed) this.stream.end();
    }
    return this.closed;
  }

  stop(): void {
    this.stopped = true;
    this.stream?.destroy();
  }

  // A deflate body of a single byte is still decoded (and fails) at the end.
  private flushHead(): void {
    if (this.head.length === 0 || this.failure || this.stopped) return;

    this.stream = this.open(this.head);
    void this.push(this.stream, this.head);
    this.head = new Uint8Array(0);
  }

  private open(head: Uint8Array): Transform {
    const stream = decompressor(this.coding, head);
    stream.on('data', (bytes: Buffer) => this.receive(bytes));
    stream.on('error', () => {
      this.failure ??= 'decode_error';
    });

    this.closed = new Promise((resolve) => {
      stream.once('close', () => {
        for (const release of this.waiting) release();
        resolve();
      });
    });
    return stream;
  }

  // A write's callback is not called when the stream fails on that write, so
  // each write also settles when the stream closes.
  private push(stream: Transform, input: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.add(resolve);
      stream.write(input, () => {
        this.waiting.delete(resolve);
        resolve();
      });
    });
  }

  private receive(bytes: Buffer): void {
    if (this.failure || this.stopped) return;

    this.decoded += bytes.length;
    if (this.decoded > this.maxDecodedBytes) {
      this.failure = 'decoded_too_large';
      this.stream?.destroy();
      return;
    }
    this.sink(bytes);
  }
}

// A body cut short (the upstream or the client went away) decodes as far as
// it got rather than failing: the flush used at the end is a sync flush. The
// parsers then see a body that ends early. Corrupt data and a bad checksum
// still fail.
function decompressor(coding: Coding, head: Uint8Array): Transform {
  const { Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH } = zlib.constants;
  if (coding === 'br') return zlib.createBrotliDecompress({ finishFlush: BROTLI_OPERATION_FLUSH });
  if (coding === 'gzip') return zlib.createGunzip({ finishFlush: Z_SYNC_FLUSH });
  if (isZlibHeader(head)) return zlib.createInflate({ finishFlush: Z_SYNC_FLUSH });
  return zlib.createInflateRaw({ finishFlush: Z_SYNC_FLUSH });
}

// RFC 1950: method 8 (deflate), a window of at most 32 KiB, and a header
// checksum making the first two bytes a multiple of 31.
function isZlibHeader(head: Uint8Array): boolean {
  const cmf = head[0] ?? 0;
  const flg = head[1] ?? 0;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}
