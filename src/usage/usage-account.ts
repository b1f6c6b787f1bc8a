import { parseRequestBody, type LlmRequest } from './request/llm-request.js';
import {
  defaultEstimate,
  estimateRequest,
  type TokenEstimate,
} from './request/prompt-estimator.js';
import { formatFromPath } from './provider-format.js';
import { RequestBodyBuffer } from './request/request-body-buffer.js';
import {
  bodyKindOf,
  ResponseUsageReader,
  type UsageReading,
} from './response/response-usage-reader.js';
import { withStreamUsage } from './request/stream-usage-option.js';
import { ZERO_USAGE, type ProviderFormat, type TokenUsage } from './token-usage.js';
import { routeFormat, type UsagePolicy } from './usage-policy.js';

/** Where a settled usage figure came from. */
export type UsageSource = 'reported' | 'partial' | 'estimated' | 'none';

const NO_TOKENS: TokenEstimate = { input: 0, output: 0 };

/** The usage one request is charged with, and how it was found. */
export interface UsageSettlement {
  readonly usage: TokenUsage;
  readonly source: UsageSource;
  /**
   * Why the provider's own figure was not used, or not used alone: for
   * `estimated` and `none`, and `incomplete_stream` for a `partial` stream
   * charged at least its output estimate.
   */
  readonly missing?: string;
  readonly model?: string;
  readonly format?: ProviderFormat;
  readonly status?: number;
  /** Usage fields whose values were not trusted. */
  readonly rejected: readonly string[];
}

/** What the request-headers phase knows about the request. */
export interface RequestStart {
  readonly path: string;
  readonly routeName?: string;
}

/**
 * The usage side of one exchange: reads the request body (model, stream flag,
 * estimate, the usage option for streams), then the response body (the
 * provider's usage), and settles once with the best figure it has.
 */
export class UsageAccount {
  private readonly format: ProviderFormat | undefined;
  private readonly body: RequestBodyBuffer;
  private request: LlmRequest | undefined;
  private estimate: TokenEstimate;
  private status: number | undefined;
  private reader: ResponseUsageReader | undefined;
  private bodyEnded = false;

  constructor(
    private readonly policy: UsagePolicy,
    start: RequestStart,
  ) {
    this.format =
      routeFormat(policy.routes, start.path, start.routeName) ?? formatFromPath(start.path);
    this.body = new RequestBodyBuffer(policy.maxRequestBodyBytes);
    this.estimate = defaultEstimate(policy.estimator);
  }

  /**
   * Takes one request body chunk. On the last one, reads the body and returns
   * a replacement body when the stream-usage option had to be added (only
   * when the body arrived whole, as Envoy's BUFFERED mode sends it).
   */
  addRequestChunk(chunk: Buffer | Uint8Array | undefined, last: boolean): Buffer | undefined {
    this.body.add(chunk);
    if (!last || this.body.tooLarge) return undefined;

    // No body, no prompt: a GET /v1/models or the like generates nothing, so
    // it reserves nothing and is charged only what its response reports.
    if (this.body.empty) {
      this.estimate = NO_TOKENS;
      return undefined;
    }

    const parsed = parseRequestBody(this.body.contents(), this.format);
    if (!parsed.ok) return undefined;

    this.request = parsed.request;
    this.estimate = estimateRequest(parsed.request, this.policy.estimator);
    if (!this.policy.injectStreamUsage || !this.body.arrivedWhole) return undefined;
    return withStreamUsage(this.body.contents(), parsed.json, parsed.request, this.format);
  }

  /** The request-side estimate (defaults until the body has been read). */
  get requestEstimate(): TokenEstimate {
    return this.estimate;
  }

  /** The model the request named, if any. */
  get requestModel(): string | undefined {
    return this.request?.model;
  }

  /**
   * The response started. Returns true when the body is an event stream (SSE
   * or NDJSON) that Envoy should be asked to stream to tollgate chunk by chunk.
   */
  startResponse(status: number, contentType?: string, contentEncoding?: string): boolean {
    this.status = status;
    this.reader = new ResponseUsageReader({
      format: this.format,
      contentType,
      contentEncoding,
      maxEventBytes: this.policy.maxEventBytes,
      maxBufferedJsonBytes: this.policy.maxBufferedJsonBytes,
      maxDecodedBytes: this.policy.maxDecodedBytes,
    });

    // SSE and NDJSON (Ollama) bodies are streams of tokens: buffered, they
    // would reach the client only at the end, and fail past Envoy's buffer.
    const streamed = bodyKindOf(contentType, this.format) !== 'json';
    return this.policy.streamModeOverride && streamed && status >= 200 && status < 300;
  }

  /** Feeds one response body chunk to the usage reader. */
  feedResponse(chunk: Buffer | Uint8Array | undefined, last: boolean): void | Promise<void> {
    if (last) this.bodyEnded = true;
    if (!this.reader || !chunk || chunk.length === 0) return;
    return this.reader.feed(chunk);
  }

  /**
   * Settles the account: the provider's usage when it reported any, else the
   * estimate, else nothing for a failed response (unless configured to charge).
   */
  async settle(): Promise<UsageSettlement> {
    const reading = this.reader ? await this.reader.finish() : undefined;
    const model = reading?.model ?? this.request?.model;
    const base = { model, format: reading?.format ?? this.format, status: this.status };
    const rejected = reading?.rejected ?? [];

    if (reading?.usage) {
      if (reading.complete) return { ...base, usage: reading.usage, source: 'reported', rejected };
      if (!reading.outputProvisional) {
        return { ...base, usage: reading.usage, source: 'partial', rejected };
      }

      // The stream ended before the event that states the final output (an
      // Anthropic stream cut after message_start says 1): what the upstream
      // generated is unknown, so at least the request's output estimate is
      // charged, as for a stream that reported nothing.
      const usage = withOutputAtLeast(reading.usage, this.estimate.output);
      return { ...base, usage, source: 'partial', missing: 'incomplete_stream', rejected };
    }

    // Not an LLM call, or a status that by definition carries no content:
    // nothing was generated, so nothing is charged.
    const nothingGenerated = this.status === 204 || this.status === 304;
    if (!this.isLlmRequest() || nothingGenerated) {
      return { ...base, usage: ZERO_USAGE, source: 'none', rejected };
    }

    const missing = this.missingReason(reading);
    if (this.isFailedResponse() && !this.policy.chargeFailedResponses) {
      return { ...base, usage: ZERO_USAGE, source: 'none', missing: 'upstream_error', rejected };
    }
    return { ...base, usage: this.estimatedUsage(), source: 'estimated', missing, rejected };
  }

  /**
   * Only LLM calls are charged an estimate: a path in a known format, or a
   * body that names a model or carries a prompt. A `GET /v1/models` or a
   * health check that reports no usage costs nothing.
   */
  private isLlmRequest(): boolean {
    if (this.format !== undefined) return true;

    const request = this.request;
    return !!request && (request.model !== undefined || request.promptTexts.length > 0);
  }

  private missingReason(reading: UsageReading | undefined): string {
    if (this.status === undefined) return 'no_response';
    if (!reading || (reading.bytes === 0 && !this.bodyEnded)) return 'body_not_sent';
    return reading.missing ?? 'no_usage';
  }

  private isFailedResponse(): boolean {
    return this.status !== undefined && (this.status < 200 || this.status >= 300);
  }

  // A request that never got a response still sent its prompt upstream, so its
  // input is charged; the output it never produced is not.
  private estimatedUsage(): TokenUsage {
    const output = this.status === undefined ? 0 : this.estimate.output;
    const input = this.estimate.input;
    return { ...ZERO_USAGE, input, output, total: input + output };
  }
}

/** `usage` with its output (and total) raised to `least` when lower. */
function withOutputAtLeast(usage: TokenUsage, least: number): TokenUsage {
  if (usage.output >= least) return usage;
  return { ...usage, output: least, total: usage.total + (least - usage.output) };
}
