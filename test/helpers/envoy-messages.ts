import type {
  HeaderValue,
  ProcessingRequest,
  ProtoStruct,
  ProtoValue,
} from '../../src/services/ext-proc/messages.js';

/** The attribute map key Envoy uses for the ext_proc filter. */
export const EXT_PROC_FILTER = 'envoy.filters.http.ext_proc';

/** How header values are written: `raw_value` as Envoy ≥ 1.27 does, or `value`. */
export type HeaderEncoding = 'raw_value' | 'value';

/** Options of a request-headers message. */
export interface RequestHeadersOptions {
  method?: string;
  path?: string;
  authority?: string;
  headers?: Record<string, string>;
  /** Envoy attributes, e.g. `{ 'xds.cluster_name': 'llm' }`. */
  attributes?: Record<string, string>;
  /** Metadata Envoy forwards (`metadata_context`), namespace → JSON object. */
  metadata?: Record<string, Record<string, unknown>>;
  endOfStream?: boolean;
  encoding?: HeaderEncoding;
}

/** Builds a header list field by field, as Envoy sends it. */
export function headerList(
  headers: Record<string, string>,
  encoding: HeaderEncoding = 'raw_value',
): HeaderValue[] {
  return Object.entries(headers).map(([key, value]) =>
    encoding === 'raw_value' ? { key, raw_value: Buffer.from(value) } : { key, value },
  );
}

/** An attributes map as Envoy fills it when the filter lists `request_attributes`. */
export function attributeStruct(values: Record<string, string>): Record<string, ProtoStruct> {
  const fields = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, { stringValue: value }]),
  );
  return { [EXT_PROC_FILTER]: { fields } };
}

/** The first message of every stream: the request's headers. */
export function requestHeaders(options: RequestHeadersOptions = {}): ProcessingRequest {
  const headers = {
    ':method': options.method ?? 'POST',
    ':path': options.path ?? '/v1/chat/completions',
    ':scheme': 'http',
    ':authority': options.authority ?? 'llm.internal',
    'content-type': 'application/json',
    'x-request-id': `req-${Math.random().toString(16).slice(2, 10)}`,
    ...options.headers,
  };

  return {
    request_headers: {
      headers: { headers: headerList(headers, options.encoding) },
      end_of_stream: options.endOfStream ?? false,
    },
    attributes: options.attributes ? attributeStruct(options.attributes) : undefined,
    metadata_context: options.metadata && {
      filter_metadata: Object.fromEntries(
        Object.entries(options.metadata).map(([namespace, value]) => [namespace, toStruct(value)]),
      ),
    },
  };
}

/** A JSON object as a `google.protobuf.Struct`, field by field. */
export function toStruct(object: Record<string, unknown>): ProtoStruct {
  const fields = Object.fromEntries(
    Object.entries(object).map(([name, value]) => [name, toProtoValue(value)]),
  );
  return { fields };
}

function toProtoValue(value: unknown): ProtoValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtoValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}

/** One request body chunk. */
export function requestBody(body: string | Buffer, endOfStream: boolean): ProcessingRequest {
  return { request_body: { body: Buffer.from(body), end_of_stream: endOfStream } };
}

/** The response's headers, with `:status` first as Envoy sends it. */
export function responseHeaders(
  status: number,
  headers: Record<string, string> = {},
  endOfStream = false,
): ProcessingRequest {
  const all = { ':status': String(status), 'content-type': 'application/json', ...headers };
  return {
    response_headers: { headers: { headers: headerList(all) }, end_of_stream: endOfStream },
  };
}

/** One response body chunk. */
export function responseBody(body: string | Buffer, endOfStream: boolean): ProcessingRequest {
  return { response_body: { body: Buffer.from(body), end_of_stream: endOfStream } };
}

/** Request or response trailers. */
export function trailers(
  direction: 'request' | 'response',
  values: Record<string, string> = {},
): ProcessingRequest {
  const map = { trailers: { headers: headerList(values) } };
  return direction === 'request' ? { request_trailers: map } : { response_trailers: map };
}

/** Splits a body into chunks of `size` bytes, as Envoy's STREAMED mode may. */
export function chunk(body: string | Buffer, size: number): Buffer[] {
  const bytes = Buffer.from(body);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    chunks.push(bytes.subarray(offset, offset + size));
  }
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}
