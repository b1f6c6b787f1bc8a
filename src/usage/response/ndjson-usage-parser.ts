import { BodyLineSplitter } from './body-line-splitter.js';
import type { ProviderFormat } from '../token-usage.js';
import { UsageAccumulator, type BodyReading } from './usage-accumulator.js';

/** Settings of an {@link NdjsonUsageParser}. */
export interface NdjsonUsageParserOptions {
  /** The provider format, or undefined to detect it from the lines' shapes. */
  readonly format?: ProviderFormat;
  /** The most bytes one line may take. */
  readonly maxEventBytes: number;
}

/**
 * Reads usage from a newline-delimited JSON body (Ollama's native streams, or
 * its single object when not streamed) fed in chunks cut anywhere. Each line is
 * one document; blank lines and lines that are not JSON are skipped. Lines end
 * at LF, with an optional CR before it.
 *
 * Only the line being received is held. When it grows past `maxEventBytes`,
 * reading stops and the result fails with `event_too_large`, keeping what
 * earlier lines said. A last line without its LF is still read.
 */
export class NdjsonUsageParser {
  private readonly lines = new BodyLineSplitter(false);
  private readonly decoder = new TextDecoder();
  private readonly usage: UsageAccumulator;
  private failure: 'event_too_large' | undefined;
  private finished = false;

  constructor(private readonly options: NdjsonUsageParserOptions) {
    this.usage = new UsageAccumulator(options.format);
  }

  /** Whether reading stopped early; later chunks are ignored. */
  get stopped(): boolean {
    return this.failure !== undefined;
  }

  /** Bytes held for the line being received. */
  get retainedBytes(): number {
    return this.lines.pendingBytes;
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
    if (this.stopped || this.finished) return;

    this.lines.push(chunk, (line) => this.readLine(line));
    if (this.retainedBytes > this.options.maxEventBytes) this.stop();
  }

  /** Ends the body and returns what was read. `complete` means a terminal line came. */
  finish(): BodyReading {
    if (!this.stopped && !this.finished) this.lines.flush((line) => this.readLine(line));

    this.finished = true;
    return this.usage.reading(this.usage.ended && !this.stopped, this.failure);
  }

  private readLine(line: Uint8Array): boolean {
    if (line.length > this.options.maxEventBytes) {
      this.stop();
      return false;
    }

    this.usage.addJson(this.decoder.decode(line));
    return true;
  }

  private stop(): void {
    this.failure = 'event_too_large';
    this.lines.clear();
  }
}
