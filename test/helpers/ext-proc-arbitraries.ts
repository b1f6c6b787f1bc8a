import fc from 'fast-check';

import type {
  HeaderValue,
  Phase,
  ProcessingRequest,
} from '../../src/services/ext-proc/messages.js';
import { readHeaderMap } from '../../src/services/ext-proc/header-map.js';
import { attributeStruct, toStruct } from './envoy-messages.js';

/** One message of a fuzzed stream: a ProcessingRequest, or bytes that are not one. */
export type FuzzStep =
  | { readonly kind: 'message'; readonly phase: Phase; readonly message: ProcessingRequest }
  | {
      readonly kind: 'bytes';
      readonly why: 'undecodable' | 'no_oneof';
      readonly bytes: Uint8Array;
    };

/** A fuzzed stream: its messages, and how the client ends it. */
export interface FuzzStream {
  readonly steps: readonly FuzzStep[];
  readonly ending: 'half_close' | 'reset';
}

const CONTROL_VALUES = [
  '',
  '\r\n',
  'acme\r\nx-injected: 1',
  'nul\u0000byte',
  '\u001b[31mred\u001b[0m',
  'tab\there',
  'ünïcödé',
  '\ud800',
];

/** A header value: text, any Unicode, raw bytes (invalid UTF-8), control characters, or huge. */
const headerValue: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROL_VALUES) },
  { weight: 1, arbitrary: fc.integer({ min: 1024, max: 70_000 }).map((n) => 'h'.repeat(n)) },
);

const headerName: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ':method',
      ':path',
      ':authority',
      ':status',
      'content-type',
      'content-encoding',
      'accept-encoding',
      'x-request-id',
      'x-tenant-id',
      'x-tollgate-upstream',
      'x-tollgate-namespace',
      'x-tollgate-service',
      'authorization',
      'x-api-key',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** One header as Envoy writes it: `raw_value` bytes, or (older Envoys) a `value` string. */
const header: fc.Arbitrary<HeaderValue> = fc
  .tuple(headerName, headerValue, fc.boolean())
  .map(([key, value, raw]) =>
    typeof value !== 'string' || raw
      ? { key, raw_value: Buffer.from(value) }
      : { key, value: Buffer.from(value).toString() },
  );

/** An end_of_stream flag: mostly unset, so that most exchanges run past their first message. */
const endOfStream: fc.Arbitrary<boolean> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

const PATHS = ['/v1/chat/completions', '/v1/messages', '/api/chat', '/v1/embeddings', '/'];

const requestHeadersStep: fc.Arbitrary<FuzzStep> = fc
  .record({
    path: fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 30 })),
    tenant: fc.constantFrom('acme', 'tight', 'other'),
    upstream: fc.option(fc.oneof(fc.constantFrom('llm', 'flaky'), fc.string({ maxLength: 20 }))),
    extra: fc.array(header, { maxLength: 6 }),
    endOfStream,
    jwt: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }))),
  })
  .map(({ path, tenant, upstream, extra, endOfStream: last, jwt }) => {
    const base: HeaderValue[] = [
      { key: ':method', raw_value: Buffer.from('POST') },
      { key: ':path', raw_value: Buffer.from(path) },
      { key: ':authority', raw_value: Buffer.from('llm.internal') },
      { key: 'x-tenant-id', raw_value: Buffer.from(tenant) },
    ];
    const message: ProcessingRequest = {
      request_headers: { headers: { headers: [...base, ...extra] }, end_of_stream: last },
      attributes: upstream === null ? undefined : attributeStruct({ 'xds.cluster_name': upstream }),
      metadata_context: jwt
        ? { filter_metadata: { 'envoy.filters.http.jwt_authn': toStruct(jwt) } }
        : undefined,
    };
    return { kind: 'message' as const, phase: 'request_headers' as const, message };
  });

const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"fuzz"}],"stream":true}';
const TEXT_BODIES = [
  CHAT,
  '{"model":"m","usage":{"prompt_tokens":-1,"completion_tokens":"9","total_tokens":1e308}}',
  '{"id":"x","model":"gpt-4o-mini","usage":{"prompt_tokens":7,"completion_tokens":3}}',
  'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: [DONE]\n\n',
  'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":4}}}\n\n',
  '{"model":"llama3","done":true,"prompt_eval_count":3,"eval_count":4}\n',
  '['.repeat(3000),
  '\u0000\u0001\u0002',
];

/** A body chunk: known LLM shapes, Unicode, binary, or bigger than the 64 KiB message cap. */
const body: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TEXT_BODIES).map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map(Buffer.from) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1024, max: 80_000 }).map((n) => Buffer.alloc(n, 0x7b)),
  },
);

const bodyStep = (phase: 'request_body' | 'response_body'): fc.Arbitrary<FuzzStep> =>
  fc.tuple(body, endOfStream).map(([bytes, last]) => ({
    kind: 'message' as const,
    phase,
    message: { [phase]: { body: bytes, end_of_stream: last } },
  }));

const STATUSES = ['200', '201', '204', '304', '429', '500', '503'];
const BAD_STATUSES = ['', 'abc', '99', '600', ' 200', '2000'];

const responseHeadersStep: fc.Arbitrary<FuzzStep> = fc
  .record({
    status: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...STATUSES) },
      { weight: 1, arbitrary: fc.constantFrom(...BAD_STATUSES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    contentType: fc.constantFrom(
      'application/json',
      'text/event-stream',
      'application/x-ndjson',
      'text/plain',
      '',
    ),
    encoding: fc.constantFrom('', 'gzip', 'br', 'deflate', 'identity', 'zstd'),
    extra: fc.array(header, { maxLength: 3 }),
    last: endOfStream,
  })
  .map(({ status, contentType, encoding, extra, last }) => {
    const headers: HeaderValue[] = [
      { key: ':status', raw_value: Buffer.from(status) },
      { key: 'content-type', raw_value: Buffer.from(contentType) },
      ...(encoding ? [{ key: 'content-encoding', raw_value: Buffer.from(encoding) }] : []),
      ...extra,
    ];
    const message = { response_headers: { headers: { headers }, end_of_stream: last } };
    return { kind: 'message' as const, phase: 'response_headers' as const, message };
  });

const trailersStep = (phase: 'request_trailers' | 'response_trailers'): fc.Arbitrary<FuzzStep> =>
  fc.array(header, { maxLength: 2 }).map((headers) => ({
    kind: 'message' as const,
    phase,
    message: { [phase]: { trailers: { headers } } },
  }));

/**
 * Bytes that are not a ProcessingRequest: a field whose length runs past the
 * end (undecodable), or only fields the proto does not know, or nothing at
 * all (both decode to a message with no `request` oneof set).
 */
const bytesStep: fc.Arbitrary<FuzzStep> = fc.oneof(
  fc.uint8Array({ maxLength: 16 }).map((tail) => ({
    kind: 'bytes' as const,
    why: 'undecodable' as const,
    bytes: Uint8Array.from([0x12, 0xff, 0xff, 0x03, ...tail]),
  })),
  fc.uint8Array({ maxLength: 64 }).map((payload) => ({
    kind: 'bytes' as const,
    why: 'no_oneof' as const,
    // Field 50, length-delimited: unknown to ProcessingRequest.
    bytes: Uint8Array.from([0x92, 0x03, payload.length, ...payload]),
  })),
  fc.constant({ kind: 'bytes' as const, why: 'no_oneof' as const, bytes: new Uint8Array(0) }),
);

/** `arbitrary` one time in `outOf`, else null. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, outOf: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: outOf - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** Steps in an order Envoy could send them, with random end_of_stream flags. */
const plausibleSteps: fc.Arbitrary<FuzzStep[]> = fc
  .record({
    request: requestHeadersStep,
    requestBody: fc.array(bodyStep('request_body'), { maxLength: 3 }),
    requestTrailers: sometimes(trailersStep('request_trailers'), 5),
    response: fc.option(responseHeadersStep, { freq: 5 }),
    responseBody: fc.array(bodyStep('response_body'), { maxLength: 3 }),
    responseTrailers: sometimes(trailersStep('response_trailers'), 5),
  })
  .map((parts) =>
    [
      parts.request,
      ...parts.requestBody,
      parts.requestTrailers,
      parts.response,
      ...(parts.response ? parts.responseBody : []),
      parts.response && parts.responseTrailers,
    ].filter((step): step is FuzzStep => !!step),
  );

const anyStep: fc.Arbitrary<FuzzStep> = fc.oneof(
  requestHeadersStep,
  bodyStep('request_body'),
  trailersStep('request_trailers'),
  responseHeadersStep,
  bodyStep('response_body'),
  trailersStep('response_trailers'),
  bytesStep,
);

/**
 * A stream: mostly a plausible exchange, sometimes shuffled, cut short, with
 * a foreign message spliced in, or messages in any order at all.
 */
export const fuzzStream: fc.Arbitrary<FuzzStream> = fc.record({
  steps: fc.oneof(
    { weight: 6, arbitrary: plausibleSteps },
    {
      weight: 1,
      arbitrary: plausibleSteps.chain((steps) => fc.shuffledSubarray(steps, { minLength: 1 })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(plausibleSteps, anyStep, fc.nat())
        .map(([steps, extra, at]) => steps.toSpliced(at % (steps.length + 1), 0, extra)),
    },
    { weight: 1, arbitrary: fc.array(anyStep, { minLength: 1, maxLength: 6 }) },
  ),
  ending: fc.constantFrom('half_close', 'reset'),
});

/** What tollgate must do with a stream, message by message. */
export interface FuzzExpectation {
  /** Index of the first message tollgate must refuse; undefined when every one is fine. */
  readonly refusedAt?: number;
  /** The gRPC status of that refusal: INVALID_ARGUMENT (3) or RESOURCE_EXHAUSTED (8). */
  readonly code?: number;
}

const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;

/**
 * The model: Envoy's message order (each direction starts with headers, may
 * carry body chunks, may end with trailers, carries nothing after its end of
 * stream; the response needs request headers first), a response `:status`
 * of 100-599, a decodable message with its oneof set, and no message over
 * `maxMessageBytes`. Answers tollgate gives on its own (an open breaker, a
 * spent budget) end a stream early; the driver allows for those.
 */
export function expectFor(
  steps: readonly FuzzStep[],
  encodedSize: (step: FuzzStep) => number,
  maxMessageBytes: number,
): FuzzExpectation {
  const state = { request: 'waiting', response: 'waiting' } as Record<string, string>;

  for (const [index, step] of steps.entries()) {
    if (encodedSize(step) > maxMessageBytes) return { refusedAt: index, code: RESOURCE_EXHAUSTED };
    if (step.kind === 'bytes') return { refusedAt: index, code: INVALID_ARGUMENT };
    if (!accepts(state, step)) return { refusedAt: index, code: INVALID_ARGUMENT };
  }
  return {};
}

function accepts(state: Record<string, string>, step: FuzzStep & { kind: 'message' }): boolean {
  const [direction, kind] = step.phase.split('_') as ['request' | 'response', string];
  if (direction === 'response' && state.request === 'waiting') return false;

  const current = state[direction];
  if (current === 'ended') return false;
  if (kind === 'headers' && current !== 'waiting') return false;
  if (kind !== 'headers' && current === 'waiting') return false;
  if (step.phase === 'response_headers' && !validStatus(step.message)) return false;

  const fields = step.message[step.phase] as { end_of_stream?: boolean } | undefined;
  state[direction] = kind === 'trailers' || fields?.end_of_stream ? 'ended' : 'open';
  return true;
}

function validStatus(message: ProcessingRequest): boolean {
  const status = readHeaderMap(message.response_headers?.headers).get(':status') ?? '';
  return /^[1-5]\d\d$/.test(status);
}
