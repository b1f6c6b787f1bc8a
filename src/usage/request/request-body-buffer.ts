/**
 * Collects a request body's chunks up to a byte cap. Past the cap it keeps
 * nothing more and remembers that the body was too large: the request still
 * goes through, its usage is estimated from defaults.
 */
export class RequestBodyBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private pieces = 0;

  constructor(private readonly maxBytes: number) {}

  /** Adds one chunk as Envoy sent it. */
  add(chunk: Buffer | Uint8Array | undefined): void {
    this.pieces += 1;
    if (this.overflowed || !chunk || chunk.length === 0) return;

    if (this.size + chunk.length > this.maxBytes) {
      this.overflowed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.size += chunk.length;
  }

  /** True when the body exceeded the cap. */
  get tooLarge(): boolean {
    return this.overflowed;
  }

  /** True when the request had no body at all (a GET, or an empty POST). */
  get empty(): boolean {
    return !this.overflowed && this.size === 0;
  }

  /** True when the whole body arrived in one message (Envoy's BUFFERED mode). */
  get arrivedWhole(): boolean {
    return this.pieces === 1;
  }

  /** The body collected so far (empty when too large). */
  contents(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }
}
