import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a {@link SwitchableBackend} answers. */
type BackendMode = 'up' | 'down' | 'hang';

/**
 * A completion backend on a loopback port whose health a test switches: up,
 * it answers every POST with a one-choice completion; down, with HTTP 503;
 * hanging, not at all until it is stopped. Answers carry `x-queue-depth`.
 * It counts requests so a test can tell that probes are arriving.
 */
export class SwitchableBackend {
  /** Requests answered so far. */
  requests = 0;
  /** Sent in `x-queue-depth` on every answer. */
  queueDepth = 0;
  /** Called after each answer is written, with whether it was healthy. */
  onAnswer: ((healthy: boolean) => void) | undefined;

  private mode: BackendMode = 'up';
  private readonly server: Server;
  private boundPort = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => this.answer(res));
    });
  }

  /** Starts a backend on `127.0.0.1` on a free port. */
  static async start(): Promise<SwitchableBackend> {
    const backend = new SwitchableBackend();
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));

    backend.boundPort = (backend.server.address() as AddressInfo).port;
    return backend;
  }

  /** The bound port. */
  get port(): number {
    return this.boundPort;
  }

  /** Makes every later answer healthy (true) or a 503 (false). */
  switchTo(healthy: boolean): void {
    this.mode = healthy ? 'up' : 'down';
  }

  /** Makes every later request hang until the backend stops. */
  hang(): void {
    this.mode = 'hang';
  }

  /** Closes the listener and every kept-alive connection. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(res: ServerResponse): void {
    if (this.mode === 'hang') return;

    const healthy = this.mode === 'up';
    this.requests += 1;
    const body = healthy
      ? { id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text: '.' }] }
      : { error: { message: 'model unavailable' } };
    res.writeHead(healthy ? 200 : 503, {
      'content-type': 'application/json',
      'x-queue-depth': String(this.queueDepth),
    });
    res.end(JSON.stringify(body));
    this.onAnswer?.(healthy);
  }
}
