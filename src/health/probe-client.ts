import { isIP } from 'node:net';

import { Agent } from 'undici';

import type { Clock } from '../time/clock.js';
import type { EndpointConfig, ProbeTlsSettings } from './health-config.js';

/** One probe request. */
export interface ProbeRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** JSON body for POST. */
  readonly json?: unknown;
  /** Bounds the whole exchange: connect, headers and body. */
  readonly timeoutMs: number;
}

/** A response read in full (up to the body cap). */
export interface ProbeResponse {
  readonly ok: true;
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly latencyMs: number;
}

/** Why a probe got no usable response. */
export type ProbeFailureKind = 'timeout' | 'connect' | 'body_too_large' | 'transport';

/** A probe that got no usable response. */
export interface ProbeFailure {
  readonly ok: false;
  readonly kind: ProbeFailureKind;
  readonly detail: string;
  readonly latencyMs: number;
}

/** The outcome of one probe request. Never an exception. */
export type ProbeResult = ProbeResponse | ProbeFailure;

/** What a {@link ProbeClient} is built from. */
export interface ProbeClientOptions {
  readonly endpoint: EndpointConfig;
  readonly maxBodyBytes: number;
  /** Extra headers for every request (secrets: never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly tls?: ProbeTlsSettings;
  /** The CA bundle `tls.caFile` names, read beforehand (see `readProbeCas`). */
  readonly ca?: Buffer;
  readonly clock: Clock;
}

/** What a probe header value is replaced with where an answer repeats it. */
export const MASK = '[redacted]';

/** Header values shorter than this are not masked: they would match ordinary text. */
const MIN_MASKED_LENGTH = 8;

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * The HTTP client of one endpoint: a keep-alive connection (TLS for `https`
 * endpoints), a timeout that covers the whole exchange so a backend that
 * accepts and then hangs cannot stall a probe round, and a cap on the body
 * read. Requests to one endpoint are made one at a time by its checker, so
 * one connection is enough.
 */
export class ProbeClient {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly secrets: readonly Buffer[];

  /** Opens no connection yet: the first request does. */
  constructor(private readonly options: ProbeClientOptions) {
    const { endpoint, tls, ca } = options;
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    this.origin = `${endpoint.scheme}://${host}:${endpoint.port}`;
    this.baseHeaders = {
      ...options.headers,
      ...(endpoint.hostname ? { host: endpoint.hostname } : {}),
    };
    this.secrets = secretForms(options.headers);

    const serverName = tls?.serverName ?? endpoint.hostname;
    this.agent = new Agent({
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      connect: {
        ...(ca ? { ca } : {}),
        ...(serverName && isIP(serverName) === 0 ? { servername: serverName } : {}),
        rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
      },
    });
  }

  /** Sends one request and reads the response; failures are values. */
  async send(request: ProbeRequest): Promise<ProbeResult> {
    const { clock } = this.options;
    const started = clock.monotonicMs();
    const latency = () => clock.monotonicMs() - started;
    const abort = new AbortController();
    const timer = clock.schedule(request.timeoutMs, () => abort.abort(new ProbeTimeout()));

    try {
      const response = await this.agent.request({
        origin: this.origin,
        path: request.path,
        method: request.method,
        headers: this.headersFor(request),
        body: request.json === undefined ? null : JSON.stringify(request.json),
        signal: abort.signal,
        // The whole-exchange timer above is the bound; undici's own are disabled
        // so that they cannot fire on the real clock while tests step a fake one.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const body = await readCapped(response.body, this.options.maxBodyBytes);
      if (body === undefined) {
        const detail = `body over ${this.options.maxBodyBytes} bytes`;
        return failure('body_too_large', detail, latency());
      }

      // A backend may repeat a request header (an API key) in its answer,
      // and failed checks quote answers in /health and the log: the probe's
      // own header values are masked before any check reads the answer.
      const headers = flattenHeaders(response.headers);
      for (const name of Object.keys(headers)) {
        headers[name] = masked(Buffer.from(headers[name]!), this.secrets).toString();
      }
      return {
        ok: true,
        status: response.statusCode,
        headers,
        body: masked(body, this.secrets),
        latencyMs: latency(),
      };
    } catch (error) {
      if (abort.signal.aborted) {
        return failure('timeout', `no complete answer within ${request.timeoutMs} ms`, latency());
      }
      return describeError(error, latency());
    } finally {
      timer.cancel();
    }
  }

  /** Closes the connection; requests in flight fail. */
  async close(): Promise<void> {
    await this.agent.destroy().catch(() => undefined);
  }

  private headersFor(request: ProbeRequest): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.baseHeaders };
    if (request.json !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }
}

class ProbeTimeout extends Error {
  constructor() {
    super('probe timed out');
    this.name = 'ProbeTimeout';
  }
}

/**
 * The forms of the probe's header values an answer may repeat: each value,
 * and its credential without a scheme (`Bearer KEY` gives `KEY` too);
 * longest first, so a whole value is masked before a part of it.
 */
function secretForms(headers: Readonly<Record<string, string>>): Buffer[] {
  const forms = new Set<string>();
  for (const value of Object.values(headers)) {
    const whole = value.trim();
    const credential = whole.replace(/^[A-Za-z]+\s+/, '');
    for (const form of [whole, credential]) {
      if (form.length >= MIN_MASKED_LENGTH) forms.add(form);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length).map((form) => Buffer.from(form));
}

function masked(bytes: Buffer, secrets: readonly Buffer[]): Buffer {
  let result = bytes;
  for (const secret of secrets) {
    for (let at = result.indexOf(secret); at >= 0; at = result.indexOf(secret, at)) {
      const before = result.subarray(0, at);
      result = Buffer.concat([before, Buffer.from(MASK), result.subarray(at + secret.length)]);
      at += MASK.length;
    }
  }
  return result;
}

/** Reads a body up to `cap` bytes; undefined (and the stream destroyed) past it. */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  cap: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > cap) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function describeError(error: unknown, latencyMs: number): ProbeFailure {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  const kind: ProbeFailureKind = CONNECT_ERRORS.has(code) ? 'connect' : 'transport';
  return failure(kind, code ? `${code}: ${message}` : message, latencyMs);
}

function failure(kind: ProbeFailureKind, detail: string, latencyMs: number): ProbeFailure {
  return { ok: false, kind, detail, latencyMs };
}
