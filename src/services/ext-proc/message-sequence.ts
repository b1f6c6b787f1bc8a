import type { Phase, ProcessingRequest } from './messages.js';
import { ProtocolError } from './protocol-error.js';

type DirectionState = 'waiting_headers' | 'open' | 'ended';

/**
 * Checks that a stream's messages arrive in an order Envoy can produce. Each
 * direction (request, response) starts with its headers, may carry body
 * chunks, may end with trailers, and carries nothing after its end of stream.
 * The two directions may interleave. The response direction needs request
 * headers first: tollgate requires `request_header_mode: SEND`.
 */
export class MessageSequence {
  private request: DirectionState = 'waiting_headers';
  private response: DirectionState = 'waiting_headers';

  /** Accepts the next message's phase or throws a {@link ProtocolError}. */
  accept(phase: Phase, message: ProcessingRequest): void {
    if (phase.startsWith('request_')) {
      this.request = this.advance('request', this.request, phase, message);
      return;
    }

    if (this.request === 'waiting_headers') {
      throw new ProtocolError(
        `${phase} arrived before request_headers; configure the ext_proc filter with ` +
          'request_header_mode: SEND',
      );
    }
    this.response = this.advance('response', this.response, phase, message);
  }

  private advance(
    direction: 'request' | 'response',
    state: DirectionState,
    phase: Phase,
    message: ProcessingRequest,
  ): DirectionState {
    const kind = phase.slice(direction.length + 1);

    if (state === 'ended') {
      throw new ProtocolError(`${phase} arrived after the ${direction} ended (end_of_stream)`);
    }
    if (kind === 'headers' && state !== 'waiting_headers') {
      throw new ProtocolError(`${phase} arrived twice on one stream`);
    }
    if (kind !== 'headers' && state === 'waiting_headers') {
      throw new ProtocolError(`${phase} arrived before ${direction}_headers`);
    }

    return endsDirection(phase, message) ? 'ended' : 'open';
  }
}

function endsDirection(phase: Phase, message: ProcessingRequest): boolean {
  switch (phase) {
    case 'request_headers':
    case 'response_headers':
      return message[phase]?.end_of_stream === true;
    case 'request_body':
    case 'response_body':
      return message[phase]?.end_of_stream === true;
    case 'request_trailers':
    case 'response_trailers':
      return true;
  }
}
