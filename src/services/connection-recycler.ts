import { constants, type Http2Server, type ServerHttp2Session } from 'node:http2';

import type { Server } from '@grpc/grpc-js';

/**
 * Streams one client connection may open before tollgate asks it, with a
 * graceful GOAWAY, to continue on a new connection. Half of nghttp2's reset
 * burst (1000), so that a client resetting every stream never runs it out.
 */
export const STREAMS_PER_CONNECTION = 500;

/**
 * How long a connection asked to go away still accepts the streams its
 * client opened before the GOAWAY reached it; then it refuses new ones and
 * closes once its open streams end.
 */
const GOAWAY_GRACE_MS = 1000;

/** The last stream id a graceful GOAWAY names: any stream already on its way is served. */
const ANY_STREAM = 2 ** 31 - 1;

/**
 * Moves clients to a new connection every {@link STREAMS_PER_CONNECTION}
 * streams. Returns false when the gRPC server's listeners cannot be found.
 *
 * Why: nghttp2, inside Node's http2, lets a client send 1000 RST_STREAM
 * frames per connection, refilled at 33 a second; past that it closes the
 * connection with GOAWAY INTERNAL_ERROR and every stream on it fails (its
 * defence against "rapid reset", CVE-2023-44487). Envoy resets each ext_proc
 * stream it ends, so above about 33 requests a second on one connection the
 * thousandth reset would fail every request in flight, long completions
 * included. Node 20 cannot raise the limit (`streamResetBurst` came later),
 * and grpc-js does not pass it on. A graceful GOAWAY (NO_ERROR) lets the
 * streams in flight finish while Envoy opens a new connection, and once a
 * GOAWAY is sent nghttp2 stops counting that connection's resets. A client
 * that keeps opening streams past the grace is refused, so the defence
 * still holds against one that ignores the GOAWAY.
 *
 * grpc-js keeps its HTTP/2 listeners in a private `http2Servers` map (filled
 * by `bindAsync`), the same one its own `grpc.max_connection_age_ms` works
 * on; this reads it, so call it after the server is bound.
 */
export function recycleConnections(server: Server, streamsPerConnection = STREAMS_PER_CONNECTION) {
  const listeners = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listeners instanceof Map)) return false;

  for (const listener of listeners.keys() as Iterable<Http2Server>) {
    listener.on('session', (session: ServerHttp2Session) => watch(session, streamsPerConnection));
  }
  return true;
}

function watch(session: ServerHttp2Session, limit: number): void {
  let streams = 0;

  session.on('stream', () => {
    streams += 1;
    if (streams !== limit || session.closed || session.destroyed) return;

    session.goaway(constants.NGHTTP2_NO_ERROR, ANY_STREAM);
    setTimeout(() => {
      if (!session.closed && !session.destroyed) session.close();
    }, GOAWAY_GRACE_MS).unref();
  });
}
