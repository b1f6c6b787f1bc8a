import type { Counter } from 'prom-client';
import type { Logger } from 'pino';

import type {
  BudgetAccount,
  BudgetAdmission,
  BudgetCheck,
  BudgetLedger,
  BudgetReservation,
} from '../budget/budget-ledger.js';
import type { TokenUsage } from '../usage/token-usage.js';
import {
  budgetExhaustedAnswer,
  budgetUnavailableAnswer,
  type PolicyAnswer,
} from './policy-answer.js';

/** Seconds a client is told to wait when the budget store is unreachable (fail_closed). */
const STORE_RETRY_SECONDS = 5;

/** The budget's verdict on one request. */
export type BudgetVerdict =
  | {
      readonly kind: 'pass';
      /** Headers for the upstream request (the tenant's remaining budget). */
      readonly headers: ReadonlyArray<readonly [string, string]>;
      readonly remaining?: number;
    }
  | { readonly kind: 'answer'; readonly answer: PolicyAnswer };

/** What the gate needs from the rest of the engine. */
export interface BudgetGateDeps {
  readonly ledger: BudgetLedger;
  /** Header that carries the remaining budget upstream; undefined to send none. */
  readonly remainingHeader?: string;
  readonly logger: Logger;
  /** Counts requests admitted without a budget check because the store was down. */
  readonly failOpenAdmits: Counter;
}

/**
 * The budget step of one request: asks the ledger once, holds the
 * reservation it makes, and settles or releases it exactly once.
 */
export class BudgetGate {
  private reservation: BudgetReservation | undefined;
  private decided = false;
  private closed = false;

  constructor(
    private readonly deps: BudgetGateDeps,
    /** The tenant the request is charged to, and the budget counter it is charged on. */
    readonly account: BudgetAccount,
  ) {}

  /** The tenant the request is charged to. */
  get tenant(): string {
    return this.account.tenant;
  }

  /** Whether {@link decide} has run (the budget is decided once per request). */
  get isDecided(): boolean {
    return this.decided;
  }

  /** Checks the tenant's budget for `estimate` tokens and reserves them when admitted. */
  async decide(estimate: number): Promise<BudgetVerdict> {
    this.decided = true;
    const admission = await this.deps.ledger.admit(this.account, estimate);
    return this.verdictOf(admission);
  }

  /**
   * Decides after the upstream has already answered (Envoy sent no request
   * body): the work is done and is paid for, so an exhausted budget still
   * charges it and only later requests are refused. Nothing can be charged
   * while the store is unreachable.
   */
  async decideLate(estimate: number): Promise<void> {
    this.decided = true;
    const admission = await this.deps.ledger.admit(this.account, estimate);

    if (admission.result === 'allowed' || admission.result === 'soft') {
      this.hold(admission.reservation);
    } else if (admission.result === 'exhausted') {
      const charge = this.deps.ledger.charge(this.account);
      if (charge) this.hold(charge);
    }
  }

  /** Settles the reservation with the request's final usage. Safe to call more than once. */
  async settle(usage: TokenUsage): Promise<void> {
    this.closed = true;
    const reservation = this.reservation;
    this.reservation = undefined;
    if (!reservation) return;

    try {
      await reservation.settle(usage);
    } catch (error) {
      this.deps.logger.warn(
        { tenant: this.tenant, budget: this.account.key, err: error },
        'budget usage could not be settled (budget store unreachable); the reservation will ' +
          'expire after budgets.reservation_ttl. Check the budget store.',
      );
    }
  }

  /** Gives the reservation back uncharged (the request never reached the upstream). */
  async release(): Promise<void> {
    this.closed = true;
    const reservation = this.reservation;
    this.reservation = undefined;
    await reservation?.release().catch(() => undefined);
  }

  private verdictOf(admission: BudgetAdmission): BudgetVerdict {
    const verdict = budgetVerdict(this.deps, this.tenant, admission);
    if (admission.result === 'allowed' || admission.result === 'soft') {
      this.hold(admission.reservation);
    }
    return verdict;
  }

  // A stream that ended while the ledger was deciding must not keep the
  // reservation until it expires: it is given back at once.
  private hold(reservation: BudgetReservation): void {
    if (this.closed) void reservation.release().catch(() => undefined);
    else this.reservation = reservation;
  }
}

/**
 * Checks an account's budget for `estimate` tokens without reserving
 * anything, for a front end that never sees the response (ext_authz).
 */
export async function checkBudget(
  deps: BudgetGateDeps,
  account: BudgetAccount,
  estimate: number,
): Promise<BudgetVerdict> {
  return budgetVerdict(deps, account.tenant, await deps.ledger.check(account, estimate));
}

/** What the client or the upstream sees of a ledger's answer. */
function budgetVerdict(
  deps: BudgetGateDeps,
  tenant: string,
  admission: BudgetCheck,
): BudgetVerdict {
  switch (admission.result) {
    case 'allowed':
    case 'soft':
      return pass(deps, admission.remaining);
    case 'unbudgeted':
      return { kind: 'pass', headers: [] };
    case 'exhausted':
      return {
        kind: 'answer',
        answer: budgetExhaustedAnswer({
          tenant,
          limit: admission.limit,
          retryAfterSeconds: admission.retryAfterSecs,
          resetAt: admission.resetAt,
        }),
      };
    case 'unavailable':
      if (!admission.failOpen) {
        return { kind: 'answer', answer: budgetUnavailableAnswer(STORE_RETRY_SECONDS) };
      }
      deps.failOpenAdmits.inc();
      return { kind: 'pass', headers: [] };
  }
}

function pass(deps: BudgetGateDeps, remaining: number): BudgetVerdict {
  const header = deps.remainingHeader;
  const headers: Array<[string, string]> = header ? [[header, String(remaining)]] : [];
  return { kind: 'pass', headers, remaining };
}
