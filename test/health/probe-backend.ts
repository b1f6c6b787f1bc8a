import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A request a {@link ProbeBackend} received, body read in full. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; may take as long as it likes, or never end the response. */
export type BackendHandler = (
  request: SeenRequest,
  response: http.ServerResponse,
) => void | Promise<void>;

/** A well-formed completions answer, as an OpenAI-compatible server sends it. */
export const COMPLETION = { object: 'text_completion', choices: [{ index: 0, text: '.' }] };

/** A well-formed chat answer. */
export const CHAT_COMPLETION = {
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: '.' } }],
};

/** Sends `body` as JSON with `status` and any extra headers. */
export function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * An HTTP (or HTTPS) backend on a free loopback port whose answers the test
 * scripts through {@link handler}. It records every request and the most
 * requests it ever had in flight at once.
 */
export class ProbeBackend {
  /** Every request received, in arrival order. */
  readonly requests: SeenRequest[] = [];
  /** What answers the next request; replace it to change behaviour. */
  handler: BackendHandler;
  /** The most requests in flight at the same time. */
  maxInFlight = 0;

  private inFlight = 0;
  private readonly server: http.Server;

  private constructor(handler: BackendHandler, tls?: { cert: Buffer; key: Buffer }) {
    this.handler = handler;
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) =>
      void this.handle(req, res);
    this.server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  }

  /** Starts a backend on 127.0.0.1 and a free port. */
  static async start(
    handler: BackendHandler = (_request, response) => sendJson(response, 200, COMPLETION),
    tls?: { cert: Buffer; key: Buffer },
  ): Promise<ProbeBackend> {
    const backend = new ProbeBackend(handler, tls);
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
    return backend;
  }

  /** The bound port. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The requests to `path`. */
  requestsTo(path: string): SeenRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Stops listening and cuts every connection, hanging ones included. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);

    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => (this.inFlight -= 1));
    await this.handler(request, res);
  }
}

/**
 * A TCP server on a free loopback port that hands each connection to
 * `onConnection`: for backends that do not speak HTTP, or never answer.
 */
export async function startRawBackend(onConnection: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
