import type {
  ProcessingResponse,
  ProtoStruct,
  ProtoValue,
} from '../../src/services/ext-proc/messages.js';
import type { ProviderFormat } from '../../src/usage/token-usage.js';
import type { EnvoyStream } from './envoy-client.js';
import { requestBody, requestHeaders, responseBody, responseHeaders } from './envoy-messages.js';

/** A request path of each format, as clients call it. */
export const PATH_OF: Record<ProviderFormat, string> = {
  openai_chat: '/v1/chat/completions',
  openai_completions: '/v1/completions',
  openai_embeddings: '/v1/embeddings',
  openai_responses: '/v1/responses',
  anthropic_messages: '/v1/messages',
  gemini: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
  ollama: '/api/chat',
};

/** One LLM exchange to play through a stream as Envoy would. */
export interface ScriptedExchange {
  path: string;
  requestBody?: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  /** Response body chunks; the last one carries end_of_stream. */
  chunks: ReadonlyArray<string | Buffer>;
  headers?: Record<string, string>;
  /** Envoy attributes sent with the request headers, e.g. `xds.route_name`. */
  attributes?: Record<string, string>;
}

/** The replies to each phase of a scripted exchange. */
export interface ExchangeReplies {
  requestHeaders?: ProcessingResponse;
  requestBody?: ProcessingResponse;
  responseHeaders?: ProcessingResponse;
  bodies: Array<ProcessingResponse | undefined>;
}

/**
 * Plays request headers, a buffered request body, response headers and the
 * response body chunks on `stream`, then half-closes it.
 */
export async function playExchange(
  stream: EnvoyStream,
  script: ScriptedExchange,
): Promise<ExchangeReplies> {
  const replies: ExchangeReplies = { bodies: [] };
  const hasBody = script.requestBody !== undefined;

  replies.requestHeaders = await stream.send(
    requestHeaders({
      path: script.path,
      headers: script.headers,
      attributes: script.attributes,
      endOfStream: !hasBody,
    }),
  );
  if (hasBody) replies.requestBody = await stream.send(requestBody(script.requestBody!, true));
  replies.responseHeaders = await stream.send(
    responseHeaders(script.status ?? 200, script.responseHeaders, script.chunks.length === 0),
  );
  for (let i = 0; i < script.chunks.length; i++) {
    const last = i === script.chunks.length - 1;
    replies.bodies.push(await stream.send(responseBody(script.chunks[i]!, last)));
  }
  await stream.halfClose();
  return replies;
}

/** tollgate's fields in a reply's dynamic metadata, as plain values. */
export function tollgateMetadata(
  reply: ProcessingResponse | undefined,
  namespace = 'envoy.filters.http.ext_proc',
  key = 'tollgate',
): Record<string, string | number> | undefined {
  const outer = reply?.dynamic_metadata?.fields?.[namespace]?.structValue;
  const inner = outer?.fields?.[key]?.structValue;
  return inner ? plain(inner) : undefined;
}

function plain(struct: ProtoStruct): Record<string, string | number> {
  const values: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(struct.fields ?? {})) {
    const scalar = scalarOf(value);
    if (scalar !== undefined) values[name] = scalar;
  }
  return values;
}

function scalarOf(value: ProtoValue): string | number | undefined {
  return value.stringValue ?? value.numberValue;
}

/** The value of a header a reply sets, if it sets it. */
export function setHeaderValue(
  reply: ProcessingResponse | undefined,
  phase: 'request_headers' | 'request_body' | 'response_headers' | 'response_body',
  name: string,
): string | undefined {
  const mutation = reply?.[phase]?.response?.header_mutation;
  const header = mutation?.set_headers?.find((h) => h.header.key === name);
  return header ? Buffer.from(header.header.raw_value).toString() : undefined;
}
