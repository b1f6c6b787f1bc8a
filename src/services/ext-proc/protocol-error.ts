import { status } from '@grpc/grpc-js';

/**
 * A message sequence Envoy would never send (body before headers, an empty
 * oneof, data after end of stream). The stream is ended with
 * INVALID_ARGUMENT and this message.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = status.INVALID_ARGUMENT;
}
