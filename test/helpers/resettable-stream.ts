import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';

import type {
  ProcessingRequest,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';
import { processCodec } from './envoy-client.js';

const PROCESS_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

/**
 * ext_proc streams over `node:http2` directly, for the one thing grpc-js's
 * client cannot do: reset a stream without half-closing it first. grpc-js's
 * `cancel()` writes END_STREAM and sends RST_STREAM a write later, so a quick
 * server has already answered the half-close when the reset comes; Envoy's
 * reset, alone or in the same write as its half-close, reaches the server
 * before it can answer. These streams reset the way Envoy's do.
 */
export class ResettableStreams {
  private readonly session: ClientHttp2Session;

  constructor(port: number) {
    this.session = connect(`http://127.0.0.1:${port}`);
    this.session.on('error', () => undefined);
  }

  /** Opens a stream, as Envoy does for each HTTP request. */
  stream(): ResettableStream {
    return new ResettableStream(this.session);
  }

  close(): void {
    this.session.close();
  }
}

/** One ext_proc stream that can send messages, read replies and reset. */
export class ResettableStream {
  /** Resolves when the HTTP/2 stream is closed, however that happened. */
  readonly closed: Promise<void>;

  private readonly abort = new AbortController();
  private readonly http: ClientHttp2Stream;
  private readonly codec = processCodec();
  private readonly waiters: Array<(reply: ProcessingResponse | undefined) => void> = [];
  private pending = Buffer.alloc(0);

  constructor(session: ClientHttp2Session) {
    this.http = session.request(
      {
        ':method': 'POST',
        ':path': PROCESS_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      },
      { signal: this.abort.signal },
    );
    this.http.on('error', () => undefined);
    this.http.on('data', (chunk: Buffer) => this.read(chunk));
    this.closed = new Promise((resolve) => this.http.once('close', resolve));
    void this.closed.then(() => this.waiters.splice(0).forEach((waiter) => waiter(undefined)));
  }

  /** Sends a message and resolves with its reply (undefined if the stream closed instead). */
  send(message: ProcessingRequest): Promise<ProcessingResponse | undefined> {
    const reply = new Promise<ProcessingResponse | undefined>((resolve) =>
      this.waiters.push(resolve),
    );
    this.post(message);
    return reply;
  }

  /** Sends a message without waiting for its reply. */
  post(message: ProcessingRequest): void {
    const bytes = this.codec.encode(message);
    const frame = Buffer.alloc(5 + bytes.length);
    frame.writeUInt32BE(bytes.length, 1);
    bytes.copy(frame, 5);
    this.http.write(frame);
  }

  /** Half-closes the stream, as Envoy does at the end of an exchange, and waits for it to close. */
  async end(): Promise<void> {
    this.http.end();
    await this.closed;
  }

  /** Resets the stream (RST_STREAM with CANCEL) without half-closing it first. */
  async reset(): Promise<void> {
    this.abort.abort();
    await this.closed;
  }

  // gRPC frames: a compression flag byte, a 4-byte length, the message.
  private read(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);

    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) return;

      const reply = this.codec.decode(this.pending.subarray(5, 5 + length));
      this.pending = this.pending.subarray(5 + length);
      this.waiters.shift()?.(reply);
    }
  }
}
