import { randomBytes } from 'node:crypto';

import type { RpcStatus } from './discovery-messages.js';

/** What one response carried: its nonce and each resource's version. */
export interface SentResponse {
  readonly nonce: string;
  readonly resources: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}

/** What a request says about the responses before it. */
export type RequestReply =
  /** No nonce: the stream's first request, or (delta) a subscription change on its own. */
  | { readonly kind: 'none' }
  /**
   * An ACK or a NACK. `stale` when the nonce is not that of the latest
   * response: the client had not seen the newer one yet. `sent` is what the
   * nonce's response carried, when it is still remembered.
   */
  | {
      readonly kind: 'ack' | 'nack';
      readonly nonce: string;
      readonly stale: boolean;
      readonly sent: SentResponse | undefined;
      readonly error?: RpcStatus;
    };

/** Responses remembered per stream, to name what a late NACK rejected. */
const REMEMBERED = 32;

/**
 * The nonces of one stream (and resource type): a fresh nonce for every
 * response, and the classification of each request as none, ACK or NACK,
 * current or stale. Nonces start with a random stream prefix, so a nonce
 * from an earlier stream or another tollgate never matches.
 */
export class ResponseLedger {
  private readonly prefix = randomBytes(4).toString('hex');
  private readonly sent = new Map<string, SentResponse>();
  private counter = 0;
  private latest: string | undefined;

  /** Issues the nonce of a new response and remembers what it carries. */
  issue(resources: SentResponse['resources']): string {
    this.counter += 1;
    const nonce = `${this.prefix}-${this.counter}`;
    this.latest = nonce;

    this.sent.set(nonce, { nonce, resources });
    if (this.sent.size > REMEMBERED) this.sent.delete(this.sent.keys().next().value!);
    return nonce;
  }

  /**
   * Classifies a request by its `response_nonce` and `error_detail`: with an
   * error detail (present at all, even empty) it is a NACK, without one an ACK.
   */
  classify(nonce: string | undefined, error: RpcStatus | undefined): RequestReply {
    if (!nonce) return { kind: 'none' };

    const stale = nonce !== this.latest;
    const sent = this.sent.get(nonce);
    if (error) return { kind: 'nack', nonce, stale, sent, error };
    return { kind: 'ack', nonce, stale, sent };
  }
}
