import { credentials, type Client, type ServiceClientConstructor } from '@grpc/grpc-js';

import type { CheckRequest, CheckResponse } from '../../src/services/ext-authz/messages.js';
import { clientProtos } from './envoy-client.js';

/** An `envoy.service.auth.v3.Authorization` client, as Envoy's ext_authz filter is one. */
export interface AuthzClient {
  /** One Check call; rejects with the gRPC error when the call fails. */
  check(request: CheckRequest): Promise<CheckResponse>;
  close(): void;
}

/** Connects to tollgate's gRPC port over insecure loopback. */
export function extAuthzClient(port: number): AuthzClient {
  const protos = clientProtos() as unknown as {
    envoy: { service: { auth: { v3: { Authorization: ServiceClientConstructor } } } };
  };
  const Authorization = protos.envoy.service.auth.v3.Authorization;
  const client = new Authorization(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
  ) as unknown as Client & {
    Check(
      request: CheckRequest,
      callback: (error: Error | null, response?: CheckResponse) => void,
    ): void;
  };

  return {
    check: (request) =>
      new Promise((resolve, reject) =>
        client.Check(request, (error, response) => (error ? reject(error) : resolve(response!))),
      ),
    close: () => client.close(),
  };
}

/** What a Check request is built from: the HTTP request as Envoy's filter saw it. */
export interface CheckOptions {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Record<string, string>;
  /** Send headers as `header_map` with `raw_value`, as with `encode_raw_headers: true`. */
  readonly rawHeaders?: boolean;
  /** The body, as `with_request_body` sends it (text). */
  readonly body?: string;
  readonly contextExtensions?: Record<string, string>;
}

/**
 * A CheckRequest as Envoy builds it: pseudo-headers in the header map, the
 * method, path and host also in their own fields, the body only when the
 * filter has `with_request_body`.
 */
export function checkRequest(options: CheckOptions = {}): CheckRequest {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/v1/chat/completions';
  const host = options.host ?? 'llm.internal';
  const headers: Record<string, string> = {
    ':method': method,
    ':path': path,
    ':authority': host,
    ':scheme': 'http',
    'content-type': 'application/json',
    'x-request-id': `req-${Math.random().toString(16).slice(2, 10)}`,
    ...options.headers,
  };

  const http = {
    id: headers['x-request-id'],
    method,
    path,
    host,
    scheme: 'http',
    protocol: 'HTTP/1.1',
    ...(options.rawHeaders ? { header_map: { headers: rawHeaderList(headers) } } : { headers }),
    ...(options.body === undefined ? {} : { body: options.body, size: options.body.length }),
  };
  return {
    attributes: {
      request: { http },
      context_extensions: options.contextExtensions,
    },
  };
}

function rawHeaderList(headers: Record<string, string>) {
  return Object.entries(headers).map(([key, value]) => ({ key, raw_value: Buffer.from(value) }));
}
