import type { BreakerPermit } from '../breaker/circuit-breaker.js';
import type { UsageAccount } from '../usage/usage-account.js';
import type { BudgetGate } from './budget-gate.js';
import type { ExchangeOutcome, UsageRecorder } from './usage-recorder.js';

/**
 * The engine's handle on one admitted request. The front end reports how the
 * exchange went; the handle makes sure each outcome is recorded exactly once:
 * the breaker's, whichever of response, error or early end comes first, and
 * the usage, at the end of the response or of the stream.
 */
export class Exchange {
  private breakerSettled = false;
  private outcome: Promise<ExchangeOutcome> | undefined;
  private rejected = false;

  constructor(
    /** The upstream the request goes to, when one was identified. */
    readonly upstream: string | undefined,
    private readonly permit: BreakerPermit | undefined,
    /** The usage side of the request, when usage reading is on. */
    readonly usage: UsageAccount | undefined,
    private readonly recorder: UsageRecorder | undefined,
    /** The tenant's budget step, when budgets are on and the request has a tenant. */
    readonly budget?: BudgetGate,
    /** Who the request is charged to, when known. */
    readonly tenant?: string,
  ) {}

  /** The upstream answered (or Envoy answered for it) with this `:status`. */
  recordResponseStatus(status: number): void {
    if (this.breakerSettled) return;

    this.breakerSettled = true;
    this.permit?.recordOutcome(status);
  }

  /**
   * Settles the usage once: the first call prices and records it, later calls
   * return the same outcome. Undefined when usage reading is off.
   */
  settleUsage(): Promise<ExchangeOutcome> | undefined {
    if (!this.usage || !this.recorder || this.rejected) return undefined;

    this.outcome ??= this.settleOnce(this.usage, this.recorder);
    return this.outcome;
  }

  /**
   * tollgate answered the request itself after admitting it (the budget said
   * no): the breaker permit and any reservation go back uncounted, and no
   * usage is charged, since nothing reached the upstream.
   */
  async reject(): Promise<void> {
    this.rejected = true;
    if (!this.breakerSettled) {
      this.breakerSettled = true;
      this.permit?.release();
    }
    await this.budget?.release();
  }

  private async settleOnce(usage: UsageAccount, recorder: UsageRecorder): Promise<ExchangeOutcome> {
    const outcome = recorder.record(await usage.settle(), this.tenant);

    await this.budget?.settle(outcome.settlement.usage);
    return outcome;
  }

  /**
   * The stream ended: a breaker permit still held (no response status was
   * seen) is given back uncounted, and usage not yet settled is settled with
   * what is known.
   */
  async end(): Promise<ExchangeOutcome | undefined> {
    if (!this.breakerSettled) {
      this.breakerSettled = true;
      this.permit?.release();
    }
    return this.settleUsage();
  }

  /** True once the breaker outcome is recorded or given back. */
  get isSettled(): boolean {
    return this.breakerSettled;
  }

  /** True when a circuit breaker admitted the request and waits for its outcome. */
  get holdsBreakerPermit(): boolean {
    return this.permit !== undefined;
  }
}
