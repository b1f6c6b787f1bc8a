import type { ProcessingRequest } from '../../src/services/ext-proc/messages.js';
import { replyKind, type EnvoyStream } from '../../test/helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../../test/helpers/envoy-messages.js';
import { chatCompletionJson, chatCompletionSseChunks, chatRequestBody } from './chat-payloads.js';

/** How the simulated upstream answers: one JSON body, or a stream of SSE chunks. */
export type ResponseMode = 'json' | 'sse';

/** The upstream (Envoy cluster) every simulated request is routed to. */
export const BENCH_UPSTREAM = 'llm_backend';

/** Tenants the simulated requests rotate through (the budget configs give each a budget). */
export const BENCH_TENANTS = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'] as const;

/**
 * The messages of one simulated HTTP request after the request headers, built
 * once per run and shared by every stream (grpc-js serialises them per write).
 */
export interface ExchangeMessages {
  readonly mode: ResponseMode;
  readonly requestBody: ProcessingRequest;
  readonly responseHeaders: ProcessingRequest;
  readonly responseBodies: readonly ProcessingRequest[];
}

/** Builds the request body, response headers and response body messages for `mode`. */
export function exchangeMessages(mode: ResponseMode): ExchangeMessages {
  const contentType = mode === 'sse' ? 'text/event-stream' : 'application/json';
  const bodies = mode === 'sse' ? chatCompletionSseChunks() : [chatCompletionJson()];

  return {
    mode,
    requestBody: requestBody(chatRequestBody(mode === 'sse'), true),
    responseHeaders: responseHeaders(200, {
      'content-type': contentType,
      date: 'Tue, 05 Nov 2024 10:00:00 GMT',
      'openai-processing-ms': '412',
      'x-request-id': 'upstream-req-1',
    }),
    responseBodies: bodies.map((body, index) => responseBody(body, index === bodies.length - 1)),
  };
}

const REQUEST_BODY_BYTES: Record<ResponseMode, number> = {
  json: chatRequestBody(false).length,
  sse: chatRequestBody(true).length,
};

/**
 * The request headers as Envoy sends them for a client's chat completion call
 * (values in `raw_value`, the route's cluster in the attributes).
 */
export function benchRequestHeaders(mode: ResponseMode, sequence: number): ProcessingRequest {
  return requestHeaders({
    path: '/v1/chat/completions',
    authority: 'llm.internal',
    attributes: { 'xds.cluster_name': BENCH_UPSTREAM, 'xds.route_name': 'chat' },
    headers: {
      'content-length': String(REQUEST_BODY_BYTES[mode]),
      accept: mode === 'sse' ? 'text/event-stream' : 'application/json',
      'accept-encoding': 'gzip, deflate, br',
      authorization: 'Bearer sk-bench-not-a-real-key',
      'user-agent': 'OpenAI/Python 1.54.0',
      'x-forwarded-for': '10.0.0.17',
      'x-forwarded-proto': 'https',
      'x-envoy-expected-rq-timeout-ms': '60000',
      'x-tenant-id': BENCH_TENANTS[sequence % BENCH_TENANTS.length]!,
    },
  });
}

/** The outcome of one simulated request: success, or what went wrong. */
export type ExchangeOutcome = { ok: true } | { ok: false; reason: string };

const PHASES = ['request_headers', 'request_body', 'response_headers', 'response_body'] as const;

/** The reply kind each phase must get: the same phase, never an immediate response. */
function phaseOf(message: ProcessingRequest): string {
  return PHASES.find((phase) => message[phase] !== undefined) ?? 'unknown';
}

/**
 * Plays one HTTP request on `stream` as Envoy does: each phase is sent only
 * after the reply to the previous one, then the stream is half-closed and its
 * status awaited. Any reply of the wrong kind, or a stream that does not end
 * OK, is a failed exchange.
 */
export async function playBenchExchange(
  stream: EnvoyStream,
  headers: ProcessingRequest,
  messages: ExchangeMessages,
): Promise<ExchangeOutcome> {
  const sequence = [
    headers,
    messages.requestBody,
    messages.responseHeaders,
    ...messages.responseBodies,
  ];

  for (const message of sequence) {
    const reply = await stream.send(message);
    const expected = phaseOf(message);
    const kind = replyKind(reply);
    if (kind !== expected) {
      const status = reply === undefined ? await stream.status : undefined;
      const got = status ? `stream ended (code ${status.code}: ${status.details})` : kind;
      return { ok: false, reason: `${expected} was answered by ${got}` };
    }
  }

  const status = await stream.halfClose();
  if (status.code !== 0) {
    return { ok: false, reason: `stream ended with code ${status.code}: ${status.details}` };
  }
  return { ok: true };
}
