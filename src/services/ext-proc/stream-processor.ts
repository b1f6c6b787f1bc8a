import type { Logger } from 'pino';

import type { DecisionEngine } from '../../engine/decision-engine.js';
import type { Exchange } from '../../engine/exchange.js';
import { requestIdOf } from '../../engine/request-facts.js';
import { flattenAttributes } from './attributes.js';
import { readHeaderMap } from './header-map.js';
import { immediateResponse } from './immediate-response.js';
import type {
  HttpBody,
  HttpHeaders,
  Phase,
  ProcessingRequest,
  ProcessingResponse,
} from './messages.js';
import { ProtocolError } from './protocol-error.js';

/** How a stream ended, for metrics and for the exchange's bookkeeping. */
export type StreamEnd = 'completed' | 'half_closed' | 'cancelled' | 'protocol_error' | 'failed';

/** The answer to one message, and whether the stream is over after it is sent. */
export interface PhaseReply {
  readonly response: ProcessingResponse;
  readonly endsStream: boolean;
}

const CONTINUE = { response: {} };

/**
 * The per-stream state of one HTTP exchange and one method per ext_proc phase.
 * Each phase answers with a pass-through CONTINUE unless policy says otherwise.
 */
export class StreamProcessor {
  private exchange: Exchange | undefined;
  private log: Logger;

  constructor(
    private readonly engine: DecisionEngine,
    logger: Logger,
  ) {
    this.log = logger;
  }

  /** Dispatches one message to its phase. Throws {@link ProtocolError} for bad input. */
  process(phase: Phase, message: ProcessingRequest): PhaseReply {
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

  /** Settles whatever the exchange still holds; safe to call more than once. */
  finish(end: StreamEnd): void {
    if (this.exchange && !this.exchange.isSettled) {
      this.log.debug({ end, upstream: this.exchange.upstream }, 'stream ended before a response');
      this.exchange.abandon();
    }
  }

  private onRequestHeaders(message: ProcessingRequest, headers: HttpHeaders): PhaseReply {
    const facts = {
      headers: readHeaderMap(headers.headers),
      attributes: flattenAttributes(message.attributes),
    };
    const requestId = requestIdOf(facts);
    if (requestId !== undefined) this.log = this.log.child({ requestId });

    const admission = this.engine.admit(facts);
    if (admission.kind === 'answer') {
      this.log.debug(
        { upstream: admission.upstream, status: admission.answer.status },
        'request answered by tollgate',
      );
      return { response: immediateResponse(admission.answer), endsStream: true };
    }

    this.exchange = admission.exchange;
    return reply({ request_headers: CONTINUE });
  }

  private onRequestBody(_body: HttpBody): PhaseReply {
    return reply({ request_body: CONTINUE });
  }

  private onResponseHeaders(headers: HttpHeaders): PhaseReply {
    const statusText = readHeaderMap(headers.headers).get(':status') ?? '';
    if (!/^[1-5]\d\d$/.test(statusText)) {
      throw new ProtocolError('response_headers carry no valid :status header (100-599)');
    }
    const status = Number(statusText);

    this.exchange?.recordResponseStatus(status);
    return reply({ response_headers: CONTINUE });
  }

  private onResponseBody(_body: HttpBody): PhaseReply {
    return reply({ response_body: CONTINUE });
  }
}

function reply(response: ProcessingResponse): PhaseReply {
  return { response, endsStream: false };
}
