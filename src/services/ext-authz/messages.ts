/**
 * TypeScript shapes of the `envoy.service.auth.v3` messages tollgate reads and
 * writes, as `@grpc/proto-loader` decodes them with the options in
 * `envoy-protos.ts`. Only the fields tollgate uses are listed.
 */
import type { HeaderMap, Metadata, ProtoStruct } from '../ext-proc/messages.js';

/** `AttributeContext.HttpRequest`: the request as Envoy's ext_authz filter saw it. */
export interface CheckHttpRequest {
  id?: string;
  method?: string;
  /** Lower-case names, repeated headers merged; unset with `encode_raw_headers`. */
  headers?: Record<string, string>;
  /** Raw headers (`raw_value`), sent instead of `headers` with `encode_raw_headers`. */
  header_map?: HeaderMap;
  path?: string;
  host?: string;
  scheme?: string;
  /** The body as text, when the filter has `with_request_body`. */
  body?: string;
  /** The body as bytes, with `with_request_body.pack_as_bytes`. */
  raw_body?: Buffer | Uint8Array;
}

/** `envoy.service.auth.v3.CheckRequest`. */
export interface CheckRequest {
  attributes?: {
    request?: { http?: CheckHttpRequest };
    /** Per-route values from `ExtAuthzPerRoute.check_settings.context_extensions`. */
    context_extensions?: Record<string, string>;
    metadata_context?: Metadata;
  };
}

/**
 * `envoy.config.core.v3.HeaderValueOption` as ext_authz reads it: Envoy's
 * ext_authz filter reads `value` (not `raw_value`, unlike ext_proc).
 */
export interface AuthzHeaderOption {
  header: { key: string; value: string };
  append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

/** `envoy.service.auth.v3.CheckResponse`. */
export interface CheckResponse {
  status: { code: number; message?: string };
  denied_response?: {
    status: { code: number };
    headers: AuthzHeaderOption[];
    body: string;
  };
  ok_response?: {
    headers: AuthzHeaderOption[];
  };
  /** Lands in the `envoy.filters.http.ext_authz` metadata namespace. */
  dynamic_metadata?: ProtoStruct;
}
