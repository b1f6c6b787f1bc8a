/**
 * TypeScript shapes of the `envoy.service.ext_proc.v3` messages that tollgate
 * reads and writes, as `@grpc/proto-loader` decodes them with the options in
 * `envoy-protos.ts` (proto field names, enums as strings, bytes as Buffer).
 * Only the fields tollgate uses are listed.
 */

/** `envoy.config.core.v3.HeaderValue`. Envoy ≥ 1.27 fills `raw_value`, not `value`. */
export interface HeaderValue {
  key: string;
  value?: string;
  raw_value?: Buffer | Uint8Array;
}

/** `envoy.config.core.v3.HeaderMap`. */
export interface HeaderMap {
  headers?: HeaderValue[];
}

/** `envoy.service.ext_proc.v3.HttpHeaders`. */
export interface HttpHeaders {
  headers?: HeaderMap;
  end_of_stream?: boolean;
}

/** `envoy.service.ext_proc.v3.HttpBody`. */
export interface HttpBody {
  body?: Buffer | Uint8Array;
  end_of_stream?: boolean;
}

/** `envoy.service.ext_proc.v3.HttpTrailers`. */
export interface HttpTrailers {
  trailers?: HeaderMap;
}

/**
 * `google.protobuf.Value` as decoded by proto-loader. protobufjs defines the
 * well-known types itself, with camelCase field names, so `keepCase` does not
 * apply to them: it is `stringValue`, not `string_value`.
 */
export interface ProtoValue {
  kind?: string;
  nullValue?: string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

/** `google.protobuf.Struct` as decoded by proto-loader. */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

/** `envoy.config.core.v3.Metadata`. */
export interface Metadata {
  filter_metadata?: Record<string, ProtoStruct>;
}

/** The phases of one HTTP exchange, named as the `request` oneof names them. */
export type Phase =
  | 'request_headers'
  | 'request_body'
  | 'request_trailers'
  | 'response_headers'
  | 'response_body'
  | 'response_trailers';

/** `envoy.service.ext_proc.v3.ProcessingRequest`. */
export interface ProcessingRequest {
  request?: Phase;
  request_headers?: HttpHeaders;
  response_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_body?: HttpBody;
  request_trailers?: HttpTrailers;
  response_trailers?: HttpTrailers;
  metadata_context?: Metadata;
  attributes?: Record<string, ProtoStruct>;
  observability_mode?: boolean;
}

/** `envoy.config.core.v3.HeaderValueOption`. */
export interface HeaderValueOption {
  header: { key: string; raw_value: Buffer };
  append_action?: 'OVERWRITE_IF_EXISTS_OR_ADD' | 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT';
}

/** `envoy.service.ext_proc.v3.HeaderMutation`. */
export interface HeaderMutation {
  set_headers?: HeaderValueOption[];
  remove_headers?: string[];
}

/** `envoy.service.ext_proc.v3.CommonResponse`. */
export interface CommonResponse {
  status?: 'CONTINUE' | 'CONTINUE_AND_REPLACE';
  header_mutation?: HeaderMutation;
  body_mutation?: { body?: Buffer; clear_body?: boolean };
}

/** `envoy.service.ext_proc.v3.ImmediateResponse`. */
export interface ImmediateResponse {
  status: { code: number };
  headers?: HeaderMutation;
  body?: Buffer;
  details?: string;
}

/** `envoy.service.ext_proc.v3.ProcessingResponse`. */
export interface ProcessingResponse {
  request_headers?: { response?: CommonResponse };
  response_headers?: { response?: CommonResponse };
  request_body?: { response?: CommonResponse };
  response_body?: { response?: CommonResponse };
  request_trailers?: { header_mutation?: HeaderMutation };
  response_trailers?: { header_mutation?: HeaderMutation };
  immediate_response?: ImmediateResponse;
  dynamic_metadata?: ProtoStruct;
  mode_override?: ProcessingMode;
}

/** `envoy.extensions.filters.http.ext_proc.v3.ProcessingMode` (the fields tollgate sets). */
export interface ProcessingMode {
  response_body_mode?: 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';
}
