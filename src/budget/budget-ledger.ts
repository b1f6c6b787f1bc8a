import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import { systemClock, type Clock } from '../time/clock.js';
import type { TokenUsage } from '../usage/token-usage.js';
import { AlertWebhook } from './alert-webhook.js';
import { BudgetAlerts } from './budget-alerts.js';
import type {
  BudgetAdmission,
  BudgetCheck,
  BudgetReservation,
  BudgetStatus,
  UnbudgetedStatus,
} from './budget-admission.js';
import { BudgetMetrics } from './budget-metrics.js';
import {
  describePeriod,
  nextPeriod,
  periodAt,
  previousPeriod,
  secondsToNextPeriod,
} from './budget-period.js';
import {
  ceilingOf,
  type BudgetStore,
  type PeriodKey,
  type ReserveOutcome,
} from './budget-store.js';
import { BudgetStoreError, isBudgetStoreError } from './budget-store-error.js';
import { Scope } from '../registry/scope.js';
import type { ScopedLookup } from '../registry/scoped-view.js';
import {
  accountAt,
  globalBudgetRules,
  resolveAccount,
  type BudgetAccount,
} from './budget-account.js';
import { DEFAULT_BUDGET, type BudgetRule, type BudgetsConfig } from './budgets-config.js';
import { OnceReservation } from './once-reservation.js';
import { UnansweredReservations } from './unanswered-reservations.js';
import { StoreOutageLog } from './store-outage-log.js';
import { countTokens } from './token-count.js';

export type { BudgetAccount, BudgetAdmission, BudgetCheck, BudgetStatus, UnbudgetedStatus };

export type { BudgetReservation } from './budget-admission.js';

/** What a ledger is built from. */
export interface BudgetLedgerDeps {
  readonly config: BudgetsConfig;
  readonly store: BudgetStore;
  readonly logger: Logger;
  /** Registry for the budget metrics (shared safely by several ledgers). */
  readonly metrics: Registry;
  /** Wall time for periods and reservation expiry; the system clock by default. */
  readonly clock?: Clock;
  /** Whether {@link BudgetLedger.close} closes the store too (default true). */
  readonly ownsStore?: boolean;
  /**
   * Every budget, global and scoped, as the config's policy snapshot holds
   * them; by default the global ones of `config.tenants`.
   */
  readonly rules?: ScopedLookup<BudgetRule>;
}

/** Who to charge: an account from {@link BudgetLedger.account}, or a tenant in the global scope. */
export type Chargee = BudgetAccount | string;

/**
 * Per-tenant token budgets: decides whether a request's estimate fits,
 * reserves it, settles it with the tokens actually used, raises alerts and
 * answers status. All counts live in the {@link BudgetStore}, so several
 * ledgers (processes, replicas) on one store share the same budgets.
 *
 * Counters are kept by account key (see {@link BudgetAccount}): a plain
 * tenant id for global budgets, prefixed by the budget's scope for scoped
 * ones. The admin port names counters by that key.
 */
export class BudgetLedger {
  private readonly config: BudgetsConfig;
  private readonly rules: ScopedLookup<BudgetRule>;
  /** Keys of budgets written for one tenant (not `default`): those get gauges. */
  private readonly named: ReadonlySet<string>;
  private readonly store: BudgetStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly metrics: BudgetMetrics;
  private readonly alerts: BudgetAlerts;
  private readonly outage: StoreOutageLog;
  private readonly ownsStore: boolean;
  /** Reservations whose reserve or settle failed, by id: dropped when the store answers again. */
  private readonly unanswered: UnansweredReservations;

  constructor(deps: BudgetLedgerDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.logger = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.unanswered = new UnansweredReservations(deps.store, this.clock);
    this.metrics = new BudgetMetrics(deps.metrics);
    this.ownsStore = deps.ownsStore ?? true;
    this.rules = deps.rules ?? globalBudgetRules(deps.config.tenants);
    this.named = new Set(
      this.rules
        .keys()
        .filter((id) => id.name !== DEFAULT_BUDGET)
        .map((id) => id.canonical),
    );
    const webhook = deps.config.webhook && new AlertWebhook(deps.config.webhook, deps.logger);
    this.alerts = new BudgetAlerts(deps.logger, this.metrics, webhook);
    this.outage = new StoreOutageLog(deps.logger, deps.store.backend, deps.config.failOpen);
  }

  /** The account `tenant` is charged on in `scope` (global by default). */
  account(tenant: string, scope: Scope = Scope.global()): BudgetAccount {
    return resolveAccount(this.rules, tenant, scope);
  }

  /** Decides on `estimate` tokens for an account and, when admitted, reserves them. */
  async admit(who: Chargee, estimate: number): Promise<BudgetAdmission> {
    const { check, reservation } = await this.decide(this.accountOf(who), estimate, false);
    if ((check.result === 'allowed' || check.result === 'soft') && reservation) {
      return { ...check, reservation };
    }
    return check as Exclude<BudgetCheck, { result: 'allowed' | 'soft' }>;
  }

  /** Decides on `estimate` tokens for an account without reserving anything. */
  async check(who: Chargee, estimate: number): Promise<BudgetCheck> {
    return (await this.decide(this.accountOf(who), estimate, true)).check;
  }

  /**
   * The current period of the counter under `key` (a tenant id for global
   * budgets, `NAMESPACE:TENANT` or `NAMESPACE:SERVICE:TENANT` for scoped
   * ones). Rejects with a `BudgetStoreError` when the store is down.
   */
  async status(key: string): Promise<BudgetStatus | UnbudgetedStatus> {
    const account = accountAt(this.rules, key);
    const rule = account?.rule;
    if (!account || !rule) return { tenant: account?.tenant ?? key, key, budgeted: false };

    const nowMs = this.clock.wallMs();
    const period = this.keyOf(account.key, rule, nowMs);
    const usage = await this.guard('read usage', () => this.store.usage(period, rule, nowMs));
    this.updateGauges(account.key, usage.used, usage.allowance - usage.used - usage.reserved);

    const committed = usage.used + usage.reserved;
    const ceiling = rule.enforce ? ceilingOf(rule, usage.allowance) : usage.allowance;
    return {
      tenant: account.tenant,
      key: account.key,
      budget: account.budget!,
      budgeted: true,
      period: describePeriod(rule.period),
      used: usage.used,
      reserved: usage.reserved,
      limit: rule.limit,
      allowance: usage.allowance,
      remaining: Math.max(0, usage.allowance - committed),
      usageFraction: usage.used / rule.limit,
      exhausted: committed >= ceiling,
      enforce: rule.enforce,
      periodStart: new Date(period.startMs).toISOString(),
      periodEnd: new Date(period.endMs).toISOString(),
    };
  }

  /** Status of every budget written for one tenant and every counter used this period. */
  async list(): Promise<BudgetStatus[]> {
    const seen = await this.guard('list tenants', () =>
      this.store.activeTenants(this.clock.wallMs()),
    );
    const keys = [...new Set([...this.named, ...seen])].sort();

    const statuses = await Promise.all(keys.map((key) => this.status(key)));
    return statuses.filter((status): status is BudgetStatus => status.budgeted);
  }

  /** Zeroes the current period of the counter under `key` (used, reservations, alerts). */
  async reset(key: string): Promise<void> {
    const account = accountAt(this.rules, key);
    const rule = account?.rule;
    if (!account || !rule) return;

    const nowMs = this.clock.wallMs();
    const period = this.keyOf(account.key, rule, nowMs);
    await this.guard('reset', () => this.store.reset(period, nowMs));
    this.updateGauges(account.key, 0, rule.limit);
  }

  /** Stops the alert webhook and, unless told otherwise, closes the store. */
  async close(): Promise<void> {
    await this.alerts.close();
    if (this.ownsStore) await this.store.close();
  }

  /** Resolves once queued webhook alerts are sent (for tests and orderly shutdown). */
  async alertsSent(): Promise<void> {
    await this.alerts.whenDelivered();
  }

  private accountOf(who: Chargee): BudgetAccount {
    return typeof who === 'string' ? this.account(who) : who;
  }

  private async decide(
    account: BudgetAccount,
    estimate: number,
    dryRun: boolean,
  ): Promise<{ check: BudgetCheck; reservation?: OnceReservation }> {
    const rule = account.rule;
    if (!rule) return this.counted({ result: 'unbudgeted' });

    const tokens = wholeTokens(estimate);
    const nowMs = this.clock.wallMs();
    const key = this.keyOf(account.key, rule, nowMs);
    const reservationId = randomUUID();
    let outcome: ReserveOutcome;
    try {
      outcome = await this.guard('reserve', () =>
        this.store.reserve(key, rule, {
          estimate: tokens,
          reservationId,
          nowMs,
          expiresAtMs: nowMs + this.config.reservationTtlSeconds * 1000,
          dryRun,
        }),
      );
    } catch (error) {
      if (!isBudgetStoreError(error)) throw error;
      if (!dryRun) this.unanswered.drop(key, reservationId);
      return this.counted({
        result: 'unavailable',
        failOpen: this.config.failOpen,
        error,
      });
    }

    const reserved = outcome.admitted && !dryRun;
    const committed = outcome.used + outcome.reserved + (reserved ? 0 : tokens);
    const remaining = Math.max(0, outcome.allowance - committed);
    if (reserved) this.updateGauges(account.key, outcome.used, remaining);

    if (!outcome.admitted) {
      return this.counted({
        result: 'exhausted',
        retryAfterSecs: secondsToNextPeriod(rule.period, nowMs),
        limit: rule.limit,
        resetAt: Math.floor(key.endMs / 1000),
      });
    }

    const reservation = dryRun ? undefined : this.reservation(key, rule, reservationId);
    const base = { remaining, limit: rule.limit };
    if (committed > outcome.allowance) {
      return this.counted(
        {
          result: 'soft',
          ...base,
          overBy: committed - outcome.allowance,
        },
        reservation,
      );
    }
    return this.counted({ result: 'allowed', ...base }, reservation);
  }

  /**
   * A charge for work the upstream has already done, decided too late to
   * refuse (Envoy sent no request body): nothing is reserved, and its settle
   * adds the tokens used whatever the budget says, since the store counts a
   * settle whether or not its reservation is held. Undefined when the tenant
   * has no budget.
   */
  charge(who: Chargee): BudgetReservation | undefined {
    const account = this.accountOf(who);
    const rule = account.rule;
    if (!rule) return undefined;

    const key = this.keyOf(account.key, rule, this.clock.wallMs());
    return new OnceReservation(
      (usage) => this.settle(key, rule, randomUUID(), usage),
      async () => undefined,
    );
  }

  // Open reservations are renewed at a third of their time to live, so a
  // long response keeps its tokens held while a crashed process's expire.
  private reservation(key: PeriodKey, rule: BudgetRule, id: string): OnceReservation {
    const ttlMs = this.config.reservationTtlSeconds * 1000;
    return new OnceReservation(
      (usage) =>
        this.settle(key, rule, id, usage).catch((error: unknown) => {
          this.unanswered.drop(key, id);
          throw error;
        }),
      () => this.guard('release', () => this.store.release(key, id, this.clock.wallMs())),
      {
        clock: this.clock,
        everyMs: ttlMs / 3,
        renew: () =>
          this.guard('extend', () => this.store.extend(key, id, this.clock.wallMs() + ttlMs)),
      },
    );
  }

  // The reservation settles into the period it was made in, even when the
  // response ends after that period is over.
  private async settle(key: PeriodKey, rule: BudgetRule, id: string, usage: TokenUsage) {
    const tokens = countTokens(usage, rule.count);
    const outcome = await this.guard('settle', () =>
      this.store.settle(key, rule, {
        reservationId: id,
        tokens,
        nowMs: this.clock.wallMs(),
        thresholds: rule.alertThresholds,
      }),
    );

    const remaining = outcome.allowance - outcome.usedAfter - outcome.reserved;
    if (key.endMs > this.clock.wallMs())
      this.updateGauges(key.tenant, outcome.usedAfter, remaining);
    for (const threshold of outcome.fired) {
      this.alerts.raise({
        tenant: key.tenant,
        threshold,
        used: outcome.usedAfter,
        limit: rule.limit,
        periodStart: new Date(key.startMs).toISOString(),
        periodEnd: new Date(key.endMs).toISOString(),
      });
    }
  }

  // The store calls its key `tenant`; it is the account key (a scoped budget's is prefixed).
  private keyOf(accountKey: string, rule: BudgetRule, nowMs: number): PeriodKey {
    const window = periodAt(rule.period, nowMs);
    return {
      tenant: accountKey,
      startMs: window.startMs,
      endMs: window.endMs,
      previousStartMs: previousPeriod(rule.period, window).startMs,
      keepUntilMs: nextPeriod(rule.period, window).endMs,
    };
  }

  private counted(
    check: BudgetCheck,
    reservation?: OnceReservation,
  ): { check: BudgetCheck; reservation?: OnceReservation } {
    this.metrics.decisions.inc({ result: check.result });
    return { check, reservation };
  }

  // Runs a store operation; a failure is counted, logged once per outage,
  // and rethrown as a BudgetStoreError.
  private async guard<T>(operation: string, step: () => Promise<T>): Promise<T> {
    try {
      const result = await step();
      this.outage.succeeded();
      this.unanswered.storeAnswered();
      return result;
    } catch (error) {
      this.metrics.storeErrors.inc({ operation });
      const failure = isBudgetStoreError(error)
        ? error
        : new BudgetStoreError(operation, this.store.backend, error);
      this.outage.failed(failure);
      throw failure;
    }
  }

  // Only budgets written for one tenant get gauges (labelled with the account
  // key), so label values stay bounded by the config.
  private updateGauges(key: string, used: number, remaining: number): void {
    if (!this.named.has(key)) return;

    this.metrics.used.set({ tenant: key }, used);
    this.metrics.remaining.set({ tenant: key }, Math.max(0, remaining));
  }
}

function wholeTokens(count: number): number {
  return Number.isFinite(count) && count > 0 ? Math.ceil(count) : 0;
}
