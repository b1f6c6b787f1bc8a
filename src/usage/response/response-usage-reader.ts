import { createBodyDecoder, type BodyDecoder } from './body-decoder.js';
import { JsonUsageParser } from './json-usage-parser.js';
import { NdjsonUsageParser } from './ndjson-usage-parser.js';
import { SseUsageParser } from './sse-usage-parser.js';
import type { ProviderFormat, TokenUsage } from '../token-usage.js';
import type { BodyReading } from './usage-accumulator.js';
import { toTokenUsage } from './usage-values.js';

/** How a {@link ResponseUsageReader} reads one response body. */
export interface UsageReaderOptions {
  /** The provider format (from the request path or config); undefined to detect it from shapes. */
  format?: ProviderFormat;
  /** The response's `content-type`: SSE, NDJSON or JSON (see {@link bodyKindOf}). */
  contentType?: string;
  /** The response's `content-encoding`: gzip, x-gzip, deflate, br or identity. */
  contentEncoding?: string;
  /** The most bytes one SSE event or NDJSON line may take. Default 1 MiB. */
  maxEventBytes?: number;
  /** The largest JSON body held and parsed whole; larger ones are streamed. Default 1 MiB. */
  maxBufferedJsonBytes?: number;
  /** The most bytes a compressed body may decode to. Default 256 MiB. */
  maxDecodedBytes?: number;
}

/** Why a reading has no usage, or why reading stopped before the body's end. */
export type MissingReason =
  | 'no_usage'
  | 'invalid_json'
  | 'event_too_large'
  | 'decode_error'
  | 'decoded_too_large'
  | 'unsupported_encoding';

/** What a response body said about its token usage. */
export interface UsageReading {
  /** Present when any usage was found (possibly partial: see `complete` and `missing`). */
  usage?: TokenUsage;
  /** The format that was read: the one given, or the one detected from a shape. */
  format?: ProviderFormat;
  /** The response's model, if it named one. */
  model?: string;
  /** Whether the response reached its normal end (a terminal event, or a whole JSON body). */
  complete: boolean;
  /**
   * Set when the response ended early, before the event that finalises its
   * usage (Anthropic's `message_delta`, OpenAI's usage chunk): the output
   * count is a placeholder or a running count, not what was generated.
   */
  outputProvisional?: true;
  /** Set when usage is absent or reading stopped early. */
  missing?: MissingReason;
  /** Paths of the fields whose values were not trusted (`usage.prompt_tokens`). */
  rejected: string[];
  /** Body bytes seen, before decoding. */
  bytes: number;
}

/** How a response body is framed. */
export type BodyKind = 'sse' | 'json' | 'ndjson';

const NDJSON_TYPES: ReadonlySet<string> = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);

const MIB = 1024 * 1024;

/**
 * The framing of a body: `text/event-stream` is SSE; an NDJSON media type, or
 * any other body of the Ollama format, is NDJSON; everything else is JSON.
 */
export function bodyKindOf(
  contentType: string | undefined,
  format: ProviderFormat | undefined,
): BodyKind {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'text/event-stream') return 'sse';
  if (NDJSON_TYPES.has(mediaType) || format === 'ollama') return 'ndjson';
  return 'json';
}

interface BodyParser {
  feed(bytes: Uint8Array): void;
  finish(): BodyReading;
  readonly stopped: boolean;
  readonly retainedBytes: number;
}

/**
 * Reads the provider's token usage from one response body, fed chunk by chunk
 * as Envoy delivers it, cut anywhere (inside an SSE line, a JSON number, a
 * UTF-8 character). Memory stays bounded whatever the body: see the limits.
 *
 * Synchronous for an identity (or unsupported) encoding: `feed` returns
 * nothing and `finish` returns the reading. For gzip, deflate and br, `feed`
 * returns a promise that settles once the chunk is decoded and read, and
 * `finish` a promise of the reading; awaiting each `feed` keeps the compressed
 * backlog to one chunk. Neither method throws nor rejects.
 */
export class ResponseUsageReader {
  private readonly parser: BodyParser;
  private readonly decoder: BodyDecoder;
  private bytes = 0;
  private result: UsageReading | Promise<UsageReading> | undefined;

  /** @throws RangeError when a limit is not a positive integer (a configuration bug). */
  constructor(options: UsageReaderOptions) {
    const maxEventBytes = limit(options, 'maxEventBytes', MIB, 1);
    const maxBufferedJsonBytes = limit(options, 'maxBufferedJsonBytes', MIB, 0);
    const maxDecodedBytes = limit(options, 'maxDecodedBytes', 256 * MIB, 1);

    const { format } = options;
    const kind = bodyKindOf(options.contentType, format);
    if (kind === 'sse') this.parser = new SseUsageParser({ format, maxEventBytes });
    else if (kind === 'ndjson') this.parser = new NdjsonUsageParser({ format, maxEventBytes });
    else this.parser = new JsonUsageParser({ format, maxBufferedJsonBytes });

    const sink = (bytes: Uint8Array) => this.read(bytes);
    this.decoder = createBodyDecoder(options.contentEncoding, sink, maxDecodedBytes);
  }

  /** Bytes the parser holds for the unfinished event, line or JSON body. */
  get retainedBytes(): number {
    return this.parser.retainedBytes;
  }

  /**
   * Reads one body chunk. After reading stopped (a parser or decoder failure),
   * chunks are only counted; after {@link finish}, they are ignored.
   */
  feed(chunk: Buffer | Uint8Array): void | Promise<void> {
    if (this.result !== undefined) return;

    this.bytes += chunk.byteLength;
    if (this.parser.stopped) return;
    return this.decoder.write(chunk);
  }

  /** Ends the body (at its end, or when the stream ended early) and returns the reading. */
  finish(): UsageReading | Promise<UsageReading> {
    if (this.result === undefined) {
      const ended = this.decoder.end();
      this.result = ended instanceof Promise ? ended.then(() => this.conclude()) : this.conclude();
    }
    return this.result;
  }

  private read(bytes: Uint8Array): void {
    this.parser.feed(bytes);
    if (this.parser.stopped) this.decoder.stop();
  }

  // A decoding failure is the cause of whatever the parser then saw, so it wins.
  private conclude(): UsageReading {
    const body = this.parser.finish();
    const usage = body.usage ? toTokenUsage(body.usage) : undefined;
    const failure = this.decoder.failure ?? body.failure;

    const complete = body.complete && this.decoder.failure === undefined;
    const reading: UsageReading = { complete, rejected: body.rejected, bytes: this.bytes };
    if (usage) reading.usage = usage;
    if (body.format) reading.format = body.format;
    if (body.model !== undefined) reading.model = body.model;
    if (usage && !complete && !body.final) reading.outputProvisional = true;

    const missing = failure ?? (usage ? undefined : 'no_usage');
    if (missing) reading.missing = missing;
    return reading;
  }
}

function limit(
  options: UsageReaderOptions,
  name: 'maxEventBytes' | 'maxBufferedJsonBytes' | 'maxDecodedBytes',
  fallback: number,
  least: number,
): number {
  const value = options[name] ?? fallback;
  if (Number.isSafeInteger(value) && value >= least) return value;
  throw new RangeError(`${name} must be an integer of at least ${least}, got ${value}`);
}
