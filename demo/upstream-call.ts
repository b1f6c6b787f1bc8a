import http from 'node:http';

/** A request as Envoy's router sends it to the upstream, after tollgate's mutations. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names; pseudo-headers are left out. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The upstream's answer: status and headers at once, the body as it arrives. */
export interface UpstreamResponse {
  readonly status: number;
  /** Lower-case names, hop-by-hop headers left out (Envoy does not pass them on). */
  readonly headers: Record<string, string>;
  readonly body: AsyncIterable<Buffer>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * Sends `request` to the backend at `baseUrl` over HTTP/1.1 with exactly the
 * headers given (unlike `fetch`, which would add its own `accept-encoding`,
 * and decompress), and resolves when the response headers arrive.
 */
export function callUpstream(baseUrl: string, request: UpstreamRequest): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(new URL(request.path, baseUrl), {
      method: request.method,
      headers: request.headers,
      agent: false,
    });
    outgoing.on('error', reject);
    outgoing.on('response', (incoming) => {
      resolve({
        status: incoming.statusCode ?? 0,
        headers: responseHeaders(incoming.headers),
        body: incoming,
      });
    });
    outgoing.end(request.body);
  });
}

function responseHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
