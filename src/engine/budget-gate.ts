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
import { LATE, type DecisionDeadline } from './decision-deadline.js';
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
  /** `budgets.on_store_error` is `fail_open`: a store that misses the deadline admits. */
  readonly failOpen: boolean;
  /** How long a request waits for the store before it is treated as unreachable. */
  readonly deadline: DecisionDeadline;
}

/**
 * The budget step of one request: asks the ledger once, holds the
 * reservation it makes, and settles or releases it exactly once. No step
 * keeps the request waiting past the deadline: a decision that comes later
 * is void (the request was answered by `on_store_error`, and a reservation
 * the store made meanwhile is released when it arrives), and a settle that
 * takes longer finishes in the background.
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
    const admission = await this.admitInTime(estimate);
    if (admission === LATE) return unavailableVerdict(this.deps, this.deps.failOpen);
    return this.verdictOf(admission);
  }

  /**
   * Decides after the upstream has already answered (Envoy sent no request
   * body): the work is done and is paid for, so an exhausted budget still
   * charges it and only later requests are refused. Nothing can be charged
   * while the store is unreachable, or when it answers past the deadline.
   */
  async decideLate(estimate: number): Promise<void> {
    this.decided = true;
    const admission = await this.admitInTime(estimate);
    if (admission === LATE) return;

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

    // The outage is logged once by the ledger; each lost settle only at debug.
    const settling = reservation.settle(usage).catch((error: unknown) => {
      this.deps.logger.debug(
        { tenant: this.tenant, budget: this.account.key, err: error },
        'budget usage could not be settled (budget store unreachable): not counted',
      );
    });
    await this.deps.deadline.race('settle', settling);
  }

  /** Gives the reservation back uncharged (the request never reached the upstream). */
  async release(): Promise<void> {
    this.closed = true;
    const reservation = this.reservation;
    this.reservation = undefined;
    await reservation?.release().catch(() => undefined);
  }

  // A decision past the deadline is void: the request has been answered
  // without it, so the reservation it brings is given back at once.
  private async admitInTime(estimate: number): Promise<BudgetAdmission | typeof LATE> {
    const admitting = this.deps.ledger.admit(this.account, estimate);
    const admission = await this.deps.deadline.race('reserve', admitting);
    if (admission === LATE) {
      void admitting.then(
        (late) => {
          if (late.result === 'allowed' || late.result === 'soft') {
            void late.reservation.release().catch(() => undefined);
          }
        },
        () => undefined,
      );
    }
    return admission;
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
  const check = await deps.deadline.race('check', deps.ledger.check(account, estimate));
  if (check === LATE) return unavailableVerdict(deps, deps.failOpen);
  return budgetVerdict(deps, account.tenant, check);
}

/** The verdict of `on_store_error` for a store that failed or did not answer in time. */
function unavailableVerdict(deps: BudgetGateDeps, failOpen: boolean): BudgetVerdict {
  if (!failOpen) {
    return { kind: 'answer', answer: budgetUnavailableAnswer(STORE_RETRY_SECONDS) };
  }
  deps.failOpenAdmits.inc();
  return { kind: 'pass', headers: [] };
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
      return unavailableVerdict(deps, admission.failOpen);
  }
}

function pass(deps: BudgetGateDeps, remaining: number): BudgetVerdict {
  const header = deps.remainingHeader;
  const headers: Array<[string, string]> = header ? [[header, String(remaining)]] : [];
  return { kind: 'pass', headers, remaining };
}
