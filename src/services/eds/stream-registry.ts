import { status, type ServerDuplexStream } from '@grpc/grpc-js';

/** An open discovery stream, as the registry sees it. */
export interface OpenStream {
  /** Clusters the stream subscribes to now. */
  readonly subscribed: number;
  /** Ends the stream from the server side. */
  close(code: status, details: string): void;
}

/**
 * The open EDS and ADS streams. Discovery streams live as long as the
 * client, so a drain that waited for them would always run into its
 * timeout: {@link closeAll} ends them first (the client reconnects, to
 * another instance or to this one restarted), and streams opened after it
 * are refused.
 */
export class StreamRegistry {
  private readonly open = new Set<OpenStream>();
  private closing = false;

  /** Registers a stream; false when the registry is closing and the stream must be refused. */
  add(stream: OpenStream): boolean {
    if (this.closing) return false;

    this.open.add(stream);
    return true;
  }

  /** Forgets a stream that ended. */
  delete(stream: OpenStream): void {
    this.open.delete(stream);
  }

  /** Streams subscribed to at least one cluster. */
  subscribers(): number {
    let count = 0;
    for (const stream of this.open) if (stream.subscribed > 0) count += 1;
    return count;
  }

  /** Ends every open stream with UNAVAILABLE and refuses new ones. */
  closeAll(): void {
    this.closing = true;
    for (const stream of [...this.open]) {
      stream.close(status.UNAVAILABLE, 'tollgate is shutting down; reconnect to continue');
    }
    this.open.clear();
  }
}

/** Ends a server stream with a status (grpc-js sends an emitted error as the call's status). */
export function endWithStatus(
  call: ServerDuplexStream<unknown, unknown>,
  code: status,
  details: string,
): void {
  call.emit('error', { code, details });
}
