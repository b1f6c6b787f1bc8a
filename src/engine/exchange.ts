import type { BreakerPermit } from '../breaker/circuit-breaker.js';

/**
 * The engine's handle on one admitted request. The front end reports how the
 * exchange went; the handle makes sure each outcome is recorded exactly once,
 * whichever of response, error or early end comes first.
 */
export class Exchange {
  private settled = false;

  constructor(
    /** The upstream the request goes to, when one was identified. */
    readonly upstream: string | undefined,
    private readonly permit: BreakerPermit | undefined,
  ) {}

  /** The upstream answered (or Envoy answered for it) with this `:status`. */
  recordResponseStatus(status: number): void {
    if (this.settled) return;

    this.settled = true;
    this.permit?.recordOutcome(status);
  }

  /**
   * The stream ended before a response status was seen (client gone, stream
   * reset, protocol error): the breaker's permit is given back uncounted.
   */
  abandon(): void {
    if (this.settled) return;

    this.settled = true;
    this.permit?.release();
  }

  /** True once a status was recorded or the exchange was abandoned. */
  get isSettled(): boolean {
    return this.settled;
  }
}
