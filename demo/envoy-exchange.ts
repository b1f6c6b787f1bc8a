import type {
  HeaderMutation,
  HeaderValue,
  ImmediateResponse,
  Phase,
  ProcessingRequest,
  ProcessingResponse,
} from '../src/services/ext-proc/messages.js';
import { EnvoyStream, replyKind } from '../test/helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../test/helpers/envoy-messages.js';
import { tollgateMetadata } from '../test/helpers/usage-exchange.js';
import { UPSTREAM } from './demo-config.js';
import type { ExtProcClient } from './demo-stack.js';
import { DemoCheckFailed } from './narrator.js';
import { callUpstream, type UpstreamRequest } from './upstream-call.js';

/** What a client sends through Envoy: a JSON request on behalf of a tenant. */
export interface ClientRequest {
  readonly tenant: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** Default `/v1/chat/completions`. */
  readonly path?: string;
}

/** tollgate answered for the upstream (an ext_proc immediate response). */
export interface TollgateAnswer {
  readonly kind: 'answered';
  /** The phase whose reply was the immediate response. */
  readonly phase: Phase;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** What `%RESPONSE_CODE_DETAILS%` would read. */
  readonly details: string;
}

/** The request went to the backend and its response came back through tollgate. */
export interface ForwardedExchange {
  readonly kind: 'forwarded';
  /** What tollgate changed in the request headers: names removed, values set. */
  readonly removed: readonly string[];
  readonly set: Readonly<Record<string, string>>;
  /** The request body as the client sent it, and as the backend received it. */
  readonly clientBody: string;
  readonly upstreamBody: string;
  /** tollgate asked Envoy (mode_override) to stream the response body to it. */
  readonly streamed: boolean;
  /** Response body messages sent to tollgate, the end-of-stream one included. */
  readonly bodyMessages: number;
  /** What the client receives: the backend's status, the headers as tollgate left them. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** tollgate's dynamic metadata (tokens, cost), as Envoy's access log would see it. */
  readonly usage: Readonly<Record<string, string | number>> | undefined;
}

/** How one HTTP request through Envoy ended. */
export type ExchangeResult = TollgateAnswer | ForwardedExchange;

/** The result as a forwarded exchange; throws when tollgate answered instead. */
export function expectForwarded(result: ExchangeResult): ForwardedExchange {
  if (result.kind === 'forwarded') return result;
  throw new DemoCheckFailed(
    `expected the request to reach the backend, but tollgate answered ${result.status} ` +
      `(${result.details}) at ${result.phase}: ${result.body}`,
  );
}

/** The result as tollgate's own answer; throws when the request reached the backend. */
export function expectAnswered(result: ExchangeResult): TollgateAnswer {
  if (result.kind === 'answered') return result;
  throw new DemoCheckFailed(
    `expected tollgate to answer itself, but the request reached the backend ` +
      `(${result.status})`,
  );
}

/** `ProcessingMode.BodySendMode.STREAMED`, as the client decodes enums (numbers). */
const STREAMED = 1;

/**
 * Plays one HTTP request the way Envoy's ext_proc filter does, with the
 * processing mode of `envoy/envoy.yaml`: request headers, the buffered
 * request body, then (unless tollgate answered itself) the request as
 * mutated goes to the real backend, and its status, headers and body come
 * back through tollgate: buffered, or chunk by chunk when tollgate overrides
 * the mode to STREAMED. The stream must end OK.
 */
export async function playExchange(
  client: ExtProcClient,
  backendUrl: string,
  request: ClientRequest,
): Promise<ExchangeResult> {
  const stream = new EnvoyStream(client);
  let result: ExchangeResult;
  try {
    result = await play(stream, backendUrl, request);
  } catch (error) {
    await stream.cancel();
    throw error;
  }

  const status = await stream.halfClose();
  if (status.code !== 0) {
    throw new DemoCheckFailed(
      `the ext_proc stream ended with gRPC ${status.code}: ${status.details}`,
    );
  }
  return result;
}

async function play(
  stream: EnvoyStream,
  backendUrl: string,
  request: ClientRequest,
): Promise<ExchangeResult> {
  const outgoing = await requestPhases(stream, request);
  if (outgoing.kind === 'answered') return outgoing;

  const upstream = await callUpstream(backendUrl, outgoing.upstream);

  const onHeaders = await send(
    stream,
    responseHeaders(upstream.status, upstream.headers),
    'response_headers',
  );
  if (onHeaders.immediate_response) return answered('response_headers', onHeaders);
  const headers = new Map(Object.entries(upstream.headers));
  applyMutation(headers, onHeaders.response_headers?.response?.header_mutation);
  const streamed = Number(onHeaders.mode_override?.response_body_mode) === STREAMED;

  const body = await relayBody(stream, upstream.body, streamed, headers);
  return {
    kind: 'forwarded',
    removed: outgoing.removed,
    set: outgoing.set,
    clientBody: outgoing.clientBody,
    upstreamBody: outgoing.upstream.body.toString(),
    streamed,
    bodyMessages: body.messages,
    status: upstream.status,
    headers: Object.fromEntries(headers),
    body: body.text,
    usage: body.usage,
  };
}

/** The request as it leaves Envoy for the backend, and what tollgate changed in it. */
interface OutgoingRequest {
  readonly kind: 'outgoing';
  readonly upstream: UpstreamRequest;
  readonly clientBody: string;
  readonly removed: string[];
  readonly set: Record<string, string>;
}

/**
 * The request headers (with the route's cluster as an attribute, as
 * `request_attributes` sends it) and the buffered body, each with tollgate's
 * mutations applied; or tollgate's own answer.
 */
async function requestPhases(
  stream: EnvoyStream,
  request: ClientRequest,
): Promise<OutgoingRequest | TollgateAnswer> {
  const path = request.path ?? '/v1/chat/completions';
  const clientBody = JSON.stringify(request.body);
  const first = requestHeaders({
    path,
    authority: 'llm.internal',
    attributes: { 'xds.cluster_name': UPSTREAM, 'xds.route_name': 'chat' },
    headers: {
      'content-length': String(Buffer.byteLength(clientBody)),
      accept: request.body.stream === true ? 'text/event-stream' : 'application/json',
      'accept-encoding': 'gzip, deflate, br',
      'user-agent': 'tollgate-demo',
      'x-tenant-id': request.tenant,
    },
  });
  const headers = new Map(decodeHeaders(first.request_headers?.headers?.headers));
  const changes: HeaderChanges = { removed: [], set: {} };

  const onHeaders = await send(stream, first, 'request_headers');
  if (onHeaders.immediate_response) return answered('request_headers', onHeaders);
  applyMutation(headers, onHeaders.request_headers?.response?.header_mutation, changes);

  const onBody = await send(stream, requestBody(clientBody, true), 'request_body');
  if (onBody.immediate_response) return answered('request_body', onBody);
  const common = onBody.request_body?.response;
  applyMutation(headers, common?.header_mutation, changes);
  const mutated = common?.body_mutation?.body;
  const body = mutated ? Buffer.from(mutated) : Buffer.from(clientBody);

  const declared = Number(headers.get('content-length'));
  if (declared !== body.length) {
    throw new DemoCheckFailed(
      `content-length ${declared} after tollgate's mutation, but the body has ` +
        `${body.length} bytes`,
    );
  }

  const upstream: UpstreamRequest = {
    method: headers.get(':method') ?? 'POST',
    path,
    headers: { ...withoutPseudo(headers), host: headers.get(':authority') ?? 'llm.internal' },
    body,
  };
  return { kind: 'outgoing', upstream, clientBody, ...changes };
}

interface RelayedBody {
  readonly text: string;
  readonly messages: number;
  readonly usage: Record<string, string | number> | undefined;
}

/**
 * Sends the response body to tollgate. Buffered: one message with the whole
 * body, whose reply may still set response headers. Streamed: each chunk as
 * it arrives, then an empty end-of-stream message, as Envoy does when the
 * upstream's last frame carries no data.
 */
async function relayBody(
  stream: EnvoyStream,
  body: AsyncIterable<Buffer>,
  streamed: boolean,
  clientHeaders: Map<string, string>,
): Promise<RelayedBody> {
  const received: Buffer[] = [];
  let messages = 0;
  let usage: Record<string, string | number> | undefined;
  const relay = async (chunk: Buffer, end: boolean): Promise<void> => {
    const reply = await send(stream, responseBody(chunk, end), 'response_body');
    messages++;
    if (!streamed) applyMutation(clientHeaders, reply.response_body?.response?.header_mutation);
    usage = tollgateMetadata(reply) ?? usage;
  };

  for await (const chunk of body) {
    received.push(chunk);
    if (streamed) await relay(chunk, false);
  }
  await relay(streamed ? Buffer.alloc(0) : Buffer.concat(received), true);

  return { text: Buffer.concat(received).toString(), messages, usage };
}

/** Sends one message and returns its reply, which must answer that phase or be immediate. */
async function send(
  stream: EnvoyStream,
  message: ProcessingRequest,
  phase: Phase,
): Promise<ProcessingResponse> {
  const reply = await stream.send(message);
  if (reply === undefined) {
    const status = await stream.status;
    throw new DemoCheckFailed(
      `tollgate ended the ext_proc stream at ${phase} (gRPC ${status.code}: ${status.details})`,
    );
  }

  const kind = replyKind(reply);
  if (kind !== phase && kind !== 'immediate_response') {
    throw new DemoCheckFailed(`tollgate answered the ${phase} message with ${kind}`);
  }
  return reply;
}

function answered(phase: Phase, reply: ProcessingResponse): TollgateAnswer {
  const immediate = reply.immediate_response as ImmediateResponse;
  const headers = new Map<string, string>();
  applyMutation(headers, immediate.headers);
  return {
    kind: 'answered',
    phase,
    status: immediate.status.code,
    headers: Object.fromEntries(headers),
    body: Buffer.from(immediate.body ?? '').toString(),
    details: immediate.details ?? '',
  };
}

interface HeaderChanges {
  removed: string[];
  set: Record<string, string>;
}

/** Applies a header mutation as Envoy does: removals, then each set overwriting. */
function applyMutation(
  headers: Map<string, string>,
  mutation: HeaderMutation | undefined,
  changes?: HeaderChanges,
): void {
  for (const name of mutation?.remove_headers ?? []) {
    if (headers.delete(name)) changes?.removed.push(name);
  }
  for (const { header } of mutation?.set_headers ?? []) {
    const value = headerText(header);
    headers.set(header.key, value);
    if (changes) changes.set[header.key] = value;
  }
}

function decodeHeaders(list: readonly HeaderValue[] | undefined): Array<[string, string]> {
  return (list ?? []).map((header) => [header.key, headerText(header)]);
}

function headerText(header: HeaderValue): string {
  return header.raw_value ? Buffer.from(header.raw_value).toString() : (header.value ?? '');
}

function withoutPseudo(headers: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => !name.startsWith(':')));
}
