import type { RequestFacts } from '../../engine/request-facts.js';
import { metadataToJson } from '../ext-proc/attributes.js';
import { readHeaderMap } from '../ext-proc/header-map.js';
import type { CheckRequest } from './messages.js';

/** What a Check call tells the engine: the request's facts and its body, if sent. */
export interface CheckInput {
  readonly facts: RequestFacts;
  /** The request body, when the filter has `with_request_body`; else undefined. */
  readonly body: Buffer | undefined;
}

/**
 * Turns a CheckRequest into the engine's {@link RequestFacts}.
 *
 * - Headers come from `header_map` (raw values, with `encode_raw_headers`)
 *   or the `headers` map; the pseudo-headers Envoy may leave out are filled
 *   from the request's own fields (`method`, `path`, `host`, `scheme`).
 * - ext_authz has no `request_attributes`: a route's
 *   `check_settings.context_extensions` stand in for them, so an operator
 *   can name the upstream as `xds.cluster_name` there, per route.
 * - Forwarded metadata (`metadata_context_namespaces`) is read as ext_proc's.
 */
export function checkInput(request: CheckRequest): CheckInput {
  const attributes = request.attributes;
  const http = attributes?.request?.http ?? {};

  const headers = http.header_map?.headers?.length
    ? readHeaderMap(http.header_map)
    : new Map(Object.entries(http.headers ?? {}).map(([name, v]) => [name.toLowerCase(), v]));
  fillPseudoHeader(headers, ':method', http.method);
  fillPseudoHeader(headers, ':path', http.path);
  fillPseudoHeader(headers, ':authority', http.host);
  fillPseudoHeader(headers, ':scheme', http.scheme);
  if (http.id && !headers.has('x-request-id')) headers.set('x-request-id', http.id);

  const facts: RequestFacts = {
    headers,
    attributes: new Map(Object.entries(attributes?.context_extensions ?? {})),
    metadata: metadataToJson(attributes?.metadata_context),
  };
  return { facts, body: bodyOf(http.raw_body, http.body) };
}

function fillPseudoHeader(headers: Map<string, string>, name: string, value?: string): void {
  if (value && !headers.has(name)) headers.set(name, value);
}

function bodyOf(
  raw: Buffer | Uint8Array | undefined,
  text: string | undefined,
): Buffer | undefined {
  if (raw && raw.length > 0) return Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  if (text) return Buffer.from(text, 'utf8');
  return undefined;
}
