import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';

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
  /** The error codes of the GOAWAYs tollgate sent, in order (0: NO_ERROR, 2: INTERNAL_ERROR). */
  readonly goaways: number[] = [];
  private current: ClientHttp2Session;
  private readonly sessions = new Set<ClientHttp2Session>();
  private closing = false;

  constructor(private readonly port: number) {
    this.current = this.connect();
  }

  /** Opens a stream, as Envoy does for each HTTP request. */
  stream(): ResettableStream {
    if (this.current.closed || this.current.destroyed) this.current = this.connect();
    return new ResettableStream(this.current);
  }

  close(): void {
    this.closing = true;
    for (const session of this.sessions) session.close();
  }

  // As Envoy does: a connection told to go away keeps serving the streams
  // on it, and new streams go to a new connection.
  private connect(): ClientHttp2Session {
    const session = connect(`http://127.0.0.1:${this.port}`);
    session.on('error', () => undefined);
    session.on('goaway', (code: number) => {
      this.goaways.push(code);
      if (this.current === session && !this.closing) this.current = this.connect();
    });
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    return session;
  }
}

/** One ext_proc stream that can send messages, read replies and reset. */
export class ResettableStream {
  /** Resolves when the HTTP/2 stream is closed, however that happened. */
  readonly closed: Promise<void>;
  /**
   * The gRPC status tollgate ended the stream with (from the trailers, or
   * the headers of a trailers-only answer); undefined when the stream closed
   * without one (it was reset).
   */
  readonly status: Promise<{ code: number; details: string } | undefined>;

  private readonly abort = new AbortController();
  private readonly http: ClientHttp2Stream;
  private readonly codec = processCodec();
  private readonly waiters: Array<(reply: ProcessingResponse | undefined) => void> = [];
  private pending = Buffer.alloc(0);
  private answered = false;

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

    // A status ends tollgate's side: no reply follows it, so waiters get none.
    this.status = new Promise((resolve) => {
      const onHeaders = (headers: IncomingHttpHeaders) => {
        const code = headers['grpc-status'];
        if (code === undefined) return;
        this.answered = true;
        this.waiters.splice(0).forEach((waiter) => waiter(undefined));
        resolve({
          code: Number(code),
          details: decodeURIComponent(String(headers['grpc-message'] ?? '')),
        });
      };
      this.http.on('response', onHeaders);
      this.http.on('trailers', onHeaders);
      void this.closed.then(() => resolve(undefined));
    });
  }

  /** Sends a message and resolves with its reply (undefined if the stream closed instead). */
  send(message: ProcessingRequest): Promise<ProcessingResponse | undefined> {
    return this.sendBytes(this.codec.encode(message));
  }

  /** Sends bytes as one message and resolves with the reply (undefined if none came). */
  sendBytes(bytes: Uint8Array): Promise<ProcessingResponse | undefined> {
    if (this.answered) return Promise.resolve(undefined);
    const reply = new Promise<ProcessingResponse | undefined>((resolve) =>
      this.waiters.push(resolve),
    );
    this.postBytes(bytes);
    return reply;
  }

  /** Sends a message without waiting for its reply. */
  post(message: ProcessingRequest): void {
    this.postBytes(this.codec.encode(message));
  }

  /** Sends bytes as one gRPC message, whether or not they decode as a ProcessingRequest. */
  postBytes(bytes: Uint8Array): void {
    const frame = Buffer.alloc(5 + bytes.length);
    frame.writeUInt32BE(bytes.length, 1);
    frame.set(bytes, 5);
    this.http.write(frame);
  }

  /** Half-closes the stream, as Envoy does at the end of an exchange, and waits for it to close. */
  async end(): Promise<void> {
    this.http.end();
    await this.closed;
  }

  /**
   * Whether the stream was refused before any message got through (its
   * connection had just been told to go away): safe to retry on another.
   */
  get refused(): boolean {
    return this.http.rstCode === constants.NGHTTP2_REFUSED_STREAM;
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
