import { JsonUsageScanner } from './json-usage-scanner.js';
import { bodyPathsFor } from './provider-extractors.js';
import type { ProviderFormat } from '../token-usage.js';
import { UsageAccumulator, type BodyReading, type ParseFailure } from './usage-accumulator.js';

/** Settings of a {@link JsonUsageParser}. */
export interface JsonUsageParserOptions {
  /** The provider format, or undefined to detect it from the body's shape. */
  readonly format?: ProviderFormat;
  /** The largest body read the fast way, whole, with `JSON.parse`. */
  readonly maxBufferedJsonBytes: number;
}

/**
 * Reads usage from a JSON response body fed in chunks (one chunk in Envoy's
 * BUFFERED mode, many in STREAMED mode). A top-level array is read element by
 * element.
 *
 * Up to `maxBufferedJsonBytes` the body is held and parsed once at the end,
 * which is fastest. Past that, it switches to a {@link JsonUsageScanner}, fed
 * the held bytes first, that keeps only the fields usage is read from, so a
 * 100 MB embeddings body is counted without being held. Both ways read the
 * same: a body that is not exactly one JSON value (truncated, HTML, invalid
 * UTF-8) fails with `invalid_json` and reports no usage. An empty body is
 * complete, with no usage.
 */
export class JsonUsageParser {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private scanner: JsonUsageScanner | undefined;
  private readonly usage: UsageAccumulator;
  private result: BodyReading | undefined;

  constructor(private readonly options: JsonUsageParserOptions) {
    this.usage = new UsageAccumulator(options.format);
  }

  /** Whether reading stopped early; later chunks are ignored. */
  get stopped(): boolean {
    return this.scanner?.failure !== undefined;
  }

  /** Bytes held: the body so far until the switch, then the token being read. */
  get retainedBytes(): number {
    return this.scanner ? this.scanner.retainedBytes : this.heldBytes;
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
    if (this.result || this.stopped || chunk.length === 0) return;

    if (!this.scanner && this.heldBytes + chunk.length <= this.options.maxBufferedJsonBytes) {
      this.held.push(Buffer.from(chunk));
      this.heldBytes += chunk.length;
      return;
    }

    this.scanner ??= this.startScanner();
    this.scanner.write(chunk);
  }

  /** Ends the body and returns what was read. `complete` means it was one whole JSON value. */
  finish(): BodyReading {
    this.result ??= this.scanner ? this.finishScan(this.scanner) : this.finishHeld();
    return this.result;
  }

  private startScanner(): JsonUsageScanner {
    const paths = bodyPathsFor(this.options.format);
    const scanner = new JsonUsageScanner(paths, (document) => this.usage.add(document));
    for (const chunk of this.held) scanner.write(chunk);

    this.held = [];
    this.heldBytes = 0;
    return scanner;
  }

  private finishScan(scanner: JsonUsageScanner): BodyReading {
    scanner.end();
    if (scanner.failure) return this.failed(scanner.failure);
    return this.usage.reading(true);
  }

  private finishHeld(): BodyReading {
    if (this.heldBytes === 0) return this.usage.reading(true);

    const text = decodeStrictly(Buffer.concat(this.held));
    this.held = [];
    if (text === undefined || !this.usage.addJson(text)) return this.failed('invalid_json');
    return this.usage.reading(true);
  }

  // What documents of a failed body said is dropped: the body may not be what it seemed.
  private failed(failure: ParseFailure): BodyReading {
    return { format: this.options.format, rejected: [], complete: false, failure };
  }
}

// JSON text must be UTF-8 (RFC 8259); the streaming tokenizer refuses anything
// else too, so both ways agree. A leading byte-order mark is dropped.
function decodeStrictly(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
