import type { Logger } from 'pino';

import type { OnceWarnings } from '../../admin/once-warnings.js';
import type { DecisionEngine } from '../../engine/decision-engine.js';
import type { BudgetVerdict } from '../../engine/budget-gate.js';
import type { Exchange } from '../../engine/exchange.js';
import { requestIdOf } from '../../engine/request-facts.js';
import type { ExchangeOutcome } from '../../engine/usage-recorder.js';
import type { UsagePolicy } from '../../usage/usage-policy.js';
import { flattenAttributes, metadataToJson } from './attributes.js';
import { headerMutation, readHeaderMap } from './header-map.js';
import { immediateResponse } from './immediate-response.js';
import type {
  CommonResponse,
  HttpBody,
  HttpHeaders,
  Phase,
  ProcessingRequest,
  ProcessingResponse,
} from './messages.js';
import { ProtocolError } from './protocol-error.js';
import { usageHeaders, usageMetadata } from './usage-metadata.js';

/** How a stream ended, for metrics and for the exchange's bookkeeping. */
export type StreamEnd = 'completed' | 'half_closed' | 'cancelled' | 'protocol_error' | 'failed';

/** The answer to one message, and whether the stream is over after it is sent. */
export interface PhaseReply {
  readonly response: ProcessingResponse;
  readonly endsStream: boolean;
}

const CONTINUE: { response: CommonResponse } = { response: {} };

/**
 * The per-stream state of one HTTP exchange and one method per ext_proc phase.
 * Each phase answers with a pass-through CONTINUE unless policy says otherwise.
 * Phases that read the response body may return a promise (decompression).
 */
export class StreamProcessor {
  private exchange: Exchange | undefined;
  private readonly logger: Logger;
  private requestId: string | undefined;
  private child: Logger | undefined;
  /** Response body messages seen; BUFFERED mode sends the whole body in one. */
  private responseBodyMessages = 0;
  /** Whether tollgate switched the response body to STREAMED. */
  private responseStreamed = false;
  /** Whether the request's last message (end_of_stream or trailers) arrived. */
  private requestEnded = false;
  private sawResponseHeaders = false;
  private readonly policy: UsagePolicy;
  private readonly budgetAt: 'body' | 'headers';
  private readonly defaultEstimate: number;

  constructor(
    private readonly engine: DecisionEngine,
    logger: Logger,
    /** Warnings already logged by the service, shared by its streams. */
    private readonly warnings: OnceWarnings,
  ) {
    this.logger = logger;
    this.policy = engine.currentConfig.usage;
    this.budgetAt = engine.currentConfig.budgets.decideAt;
    const estimator = this.policy.estimator;
    this.defaultEstimate = estimator.defaultInputTokens + estimator.defaultOutputTokens;
  }

  /** Dispatches one message to its phase. Throws {@link ProtocolError} for bad input. */
  process(phase: Phase, message: ProcessingRequest): PhaseReply | Promise<PhaseReply> {
    this.notePhase(phase, message);

    switch (phase) {
      case 'request_headers':
        return this.onRequestHeaders(message, message.request_headers ?? {});
      case 'request_body':
        return this.onRequestBody(message.request_body ?? {});
      case 'request_trailers':
        return reply({ request_trailers: {} });
      case 'response_headers':
        return this.onResponseHeaders(message.response_headers ?? {});
      case 'response_body':
        return this.onResponseBody(message.response_body ?? {});
      case 'response_trailers':
        return reply({ response_trailers: {} });
    }
  }

  // The stream's logger, carrying the request id. pino serialises and
  // redacts a child's bindings when the child is made, a few µs per stream
  // that most streams would spend for no line at all: it is made on first use.
  private get log(): Logger {
    if (this.requestId === undefined) return this.logger;
    return (this.child ??= this.logger.child({ requestId: this.requestId }));
  }

  private debug(fields: object, message: string): void {
    if (this.logger.isLevelEnabled('debug')) this.log.debug(fields, message);
  }

  /**
   * The stream ended: gives back a breaker permit still held and settles the
   * usage with what is known. Safe to call more than once.
   */
  async finish(end: StreamEnd): Promise<void> {
    const exchange = this.exchange;
    if (!exchange) return;

    if (!exchange.isSettled) {
      this.debug({ end, upstream: exchange.upstream }, 'stream ended before a response');
      this.warnIfResponseHeadersSkipped(exchange, end);
    }
    this.logOutcome(await exchange.end(), end);
  }

  private notePhase(phase: Phase, message: ProcessingRequest): void {
    if (phase === 'response_headers') this.sawResponseHeaders = true;
    if (phase === 'request_trailers') this.requestEnded = true;
    if (phase === 'request_headers' || phase === 'request_body') {
      this.requestEnded ||= message[phase]?.end_of_stream === true;
    }
  }

  /**
   * Breakers learn outcomes only from response headers. When the filter never
   * sends them (response_header_mode: SKIP), every permit is given back
   * uncounted: half-open trials never succeed and an open breaker never
   * closes. A stream whose whole request went by without any response headers
   * is the sign of it; a client that left while the upstream worked looks the
   * same, hence the wording.
   */
  private warnIfResponseHeadersSkipped(exchange: Exchange, end: StreamEnd): void {
    if (end !== 'half_closed' && end !== 'cancelled') return;
    if (!exchange.holdsBreakerPermit || !this.requestEnded || this.sawResponseHeaders) return;
    if (!this.warnings.first('response-headers-skipped')) return;

    this.log.warn(
      { upstream: exchange.upstream, end },
      'a stream held a circuit-breaker permit and ended after its whole request without ' +
        'response headers; if the ext_proc filter has response_header_mode: SKIP, breakers ' +
        'never see outcomes and an open breaker never closes: set response_header_mode: SEND ' +
        '(a client that left before the response also ends this way; logged once)',
    );
  }

  private onRequestHeaders(
    message: ProcessingRequest,
    headers: HttpHeaders,
  ): PhaseReply | Promise<PhaseReply> {
    const facts = {
      headers: readHeaderMap(headers.headers),
      attributes: flattenAttributes(message.attributes),
      metadata: metadataToJson(message.metadata_context),
    };
    this.requestId = requestIdOf(facts);

    const admission = this.engine.admit(facts);
    if (admission.kind === 'answer') {
      this.debug(
        { upstream: admission.upstream, status: admission.answer.status },
        'request answered by tollgate',
      );
      return { response: immediateResponse(admission.answer), endsStream: true };
    }

    const exchange = admission.exchange;
    this.exchange = exchange;
    if (headers.end_of_stream) exchange.usage?.addRequestChunk(undefined, true);

    // Ask the upstream for an uncompressed response, so usage can be read
    // without inflating it (a compressed one is still decoded if it comes).
    const identity = exchange.usage && this.policy.identityEncoding;
    const remove = identity && facts.headers.has('accept-encoding') ? ['accept-encoding'] : [];

    // The scope's policy headers (its upstream timeout) go with the request
    // headers, before Envoy's router reads them.
    const policy = admission.headers;

    // The budget is decided on the body's estimate, unless there is no body
    // or the config asks for header-time checks with the default estimate.
    const decideNow = headers.end_of_stream || this.budgetAt === 'headers';
    if (!exchange.budget || !decideNow) return requestHeadersReply(remove, policy);
    return this.decideBudget('request_headers', (verdict) =>
      requestHeadersReply(remove, [...policy, ...verdict.headers]),
    );
  }

  private onRequestBody(body: HttpBody): PhaseReply | Promise<PhaseReply> {
    const last = !!body.end_of_stream;
    const replacement = this.exchange?.usage?.addRequestChunk(body.body, last);
    if (replacement) {
      this.debug({}, 'added stream_options.include_usage to a streamed completion request');
    }

    const budget = this.exchange?.budget;
    if (!last || !budget || budget.isDecided) return requestBodyReply(replacement, []);
    return this.decideBudget('request_body', (verdict) =>
      requestBodyReply(replacement, verdict.headers),
    );
  }

  /**
   * Asks the tenant's budget with the request's estimate. An exhausted (or,
   * failing closed, unreachable) budget answers the request now, giving the
   * breaker permit back uncounted; otherwise `pass` builds the phase's reply.
   */
  private async decideBudget(
    phase: Phase,
    pass: (verdict: Extract<BudgetVerdict, { kind: 'pass' }>) => PhaseReply,
  ): Promise<PhaseReply> {
    const exchange = this.exchange!;
    const tokens = this.estimatedTokens();
    const verdict = await exchange.budget!.decide(tokens);
    if (verdict.kind === 'pass') return pass(verdict);

    await exchange.reject();
    this.engine.countBudgetAnswer(verdict.answer);
    this.debug(
      { phase, tenant: exchange.tenant, status: verdict.answer.status, estimate: tokens },
      'request answered by its token budget',
    );
    return { response: immediateResponse(verdict.answer), endsStream: true };
  }

  private onResponseHeaders(headers: HttpHeaders): PhaseReply | Promise<PhaseReply> {
    const budget = this.exchange?.budget;
    if (budget && !budget.isDecided) return this.lateBudget(headers);
    return this.readResponseHeaders(headers);
  }

  /** Tokens the budget is asked for: the request's estimate, or the default one. */
  private estimatedTokens(): number {
    const estimate = this.exchange?.usage?.requestEstimate;
    return estimate ? estimate.input + estimate.output : this.defaultEstimate;
  }

  /**
   * Envoy sent no request body (its filter's request_body_mode is NONE) while
   * the budget waits for one. The upstream has answered already, so its work
   * is charged even to an exhausted budget: refusing now would throw away
   * tokens that were spent. Only the requests after it are refused.
   */
  private async lateBudget(headers: HttpHeaders): Promise<PhaseReply> {
    if (this.warnings.first('late-budget')) {
      this.log.warn(
        'the request body never reached tollgate, so its budget could only be charged after ' +
          'the upstream answered, not enforced: set the ext_proc filter request_body_mode to ' +
          'BUFFERED, or budgets.decide_at: headers (logged once)',
      );
    }

    await this.exchange!.budget!.decideLate(this.estimatedTokens());
    return this.readResponseHeaders(headers);
  }

  private readResponseHeaders(headers: HttpHeaders): PhaseReply | Promise<PhaseReply> {
    const map = readHeaderMap(headers.headers);
    const statusText = map.get(':status') ?? '';
    if (!/^[1-5]\d\d$/.test(statusText)) {
      throw new ProtocolError('response_headers carry no valid :status header (100-599)');
    }
    const status = Number(statusText);
    this.exchange?.recordResponseStatus(status);

    const usage = this.exchange?.usage;
    if (!usage) return reply({ response_headers: CONTINUE });

    const stream = usage.startResponse(
      status,
      map.get('content-type'),
      map.get('content-encoding'),
    );
    if (headers.end_of_stream) {
      usage.feedResponse(undefined, true);
      return this.settled('response_headers');
    }

    this.responseStreamed = stream;
    const override = stream ? { response_body_mode: 'STREAMED' as const } : undefined;
    return reply({ response_headers: CONTINUE, mode_override: override });
  }

  private onResponseBody(body: HttpBody): PhaseReply | Promise<PhaseReply> {
    const usage = this.exchange?.usage;
    const last = !!body.end_of_stream;
    if (!usage) return reply({ response_body: CONTINUE });
    this.responseBodyMessages++;

    const fed = usage.feedResponse(body.body, last);
    if (!last) return fed ? fed.then(() => reply({ response_body: CONTINUE })) : continueBody();
    return fed ? fed.then(() => this.settled('response_body')) : this.settled('response_body');
  }

  /**
   * Settles the usage at the end of the response and answers the phase with
   * the dynamic metadata (and, while headers can still change, usage headers).
   */
  private async settled(phase: 'response_headers' | 'response_body'): Promise<PhaseReply> {
    const outcome = await this.exchange!.settleUsage()!;
    this.warnRejected(outcome);

    // Header mutations in a body reply take effect only in BUFFERED mode,
    // where Envoy still holds the headers and sends the body in one message;
    // in STREAMED mode Envoy drops them, so none are sent.
    const buffered = !this.responseStreamed && this.responseBodyMessages <= 1;
    const withHeaders = this.policy.responseHeaders && buffered;
    const response: CommonResponse = {
      header_mutation: withHeaders ? headerMutation(usageHeaders(outcome)) : undefined,
    };
    return {
      response: {
        [phase]: { response },
        dynamic_metadata: usageMetadata(outcome, this.policy, this.exchange?.upstream),
      },
      endsStream: false,
    };
  }

  private warnRejected(outcome: ExchangeOutcome): void {
    const fresh = outcome.settlement.rejected.filter((path) =>
      this.warnings.first(`rejected:${path}`),
    );
    if (fresh.length === 0) return;

    this.log.warn(
      { fields: fresh, model: outcome.settlement.model, provider: outcome.settlement.format },
      'the upstream reported usage values that are not whole non-negative token counts; they ' +
        'were ignored (counted in tollgate_usage_rejected_values_total, logged once per field)',
    );
  }

  private logOutcome(outcome: ExchangeOutcome | undefined, end: StreamEnd): void {
    if (!outcome || !this.logger.isLevelEnabled('debug')) return;

    const { settlement, cost } = outcome;
    this.debug(
      {
        end,
        upstream: this.exchange?.upstream,
        model: settlement.model,
        provider: settlement.format,
        source: settlement.source,
        missing: settlement.missing,
        rejected: settlement.rejected.length > 0 ? settlement.rejected : undefined,
        usage: settlement.usage,
        costNanos: cost?.totalNanos,
        currency: cost?.currency,
      },
      'request settled',
    );
  }
}

function requestHeadersReply(
  remove: string[],
  set: ReadonlyArray<readonly [string, string]>,
): PhaseReply {
  if (remove.length === 0 && set.length === 0) return reply({ request_headers: CONTINUE });

  const mutation = { ...headerMutation(set), remove_headers: remove.length ? remove : undefined };
  return reply({ request_headers: { response: { header_mutation: mutation } } });
}

// BUFFERED mode with header SEND keeps content-length: it must match a
// replaced body, or Envoy rejects the mutation. Headers set in a body reply
// take effect because Envoy holds the request headers until the body is read.
function requestBodyReply(
  replacement: Buffer | undefined,
  set: ReadonlyArray<readonly [string, string]>,
): PhaseReply {
  const headers = [...set];
  if (replacement) headers.push(['content-length', String(replacement.length)]);
  if (headers.length === 0) return reply({ request_body: CONTINUE });

  const response: CommonResponse = {
    header_mutation: headerMutation(headers),
    body_mutation: replacement && { body: replacement },
  };
  return reply({ request_body: { response } });
}

function reply(response: ProcessingResponse): PhaseReply {
  return { response, endsStream: false };
}

function continueBody(): PhaseReply {
  return reply({ response_body: CONTINUE });
}
