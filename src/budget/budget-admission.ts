import type { TokenUsage } from '../usage/token-usage.js';
import type { BudgetStoreError } from './budget-store-error.js';

/** Tokens held for an admitted request until it is settled or released. */
export interface BudgetReservation {
  /**
   * Replaces the reservation by what the request used (the budget's `count`
   * fields of `usage`). Only the first settle or release takes effect.
   * Rejects with a `BudgetStoreError` when the store is unreachable; the
   * reservation then expires after `reservation_ttl_seconds`.
   */
  settle(usage: TokenUsage): Promise<void>;
  /** Gives the reservation back uncharged. Only the first settle or release takes effect. */
  release(): Promise<void>;
}

/**
 * A budget's answer for an estimate, without reserving it. `remaining` is
 * what is left of the allowance once the estimate is counted, never below 0.
 */
export type BudgetCheck =
  | { readonly result: 'allowed'; readonly remaining: number; readonly limit: number }
  | {
      /** Admitted past the allowance: through the burst allowance, or because enforce is off. */
      readonly result: 'soft';
      readonly remaining: number;
      /** Tokens past the allowance, counting this estimate. */
      readonly overBy: number;
      readonly limit: number;
    }
  | {
      readonly result: 'exhausted';
      /** Seconds to the next period start, at least 1. */
      readonly retryAfterSecs: number;
      readonly limit: number;
      /** Next period start, Unix seconds. */
      readonly resetAt: number;
    }
  /** The tenant has no budget and no `default` budget applies. */
  | { readonly result: 'unbudgeted' }
  | {
      /** The store could not be asked; `failOpen` says whether to admit anyway. */
      readonly result: 'unavailable';
      readonly failOpen: boolean;
      readonly error: BudgetStoreError;
    };

/** A budget's answer to a request: a {@link BudgetCheck}; admitted answers hold a reservation. */
export type BudgetAdmission =
  | (Extract<BudgetCheck, { result: 'allowed' | 'soft' }> & {
      readonly reservation: BudgetReservation;
    })
  | Exclude<BudgetCheck, { result: 'allowed' | 'soft' }>;

/** A budgeted tenant's current period, as the admin port shows it. */
export interface BudgetStatus {
  readonly tenant: string;
  /** The counter's key: the tenant, prefixed by the budget's scope when it is scoped. */
  readonly key: string;
  /** The canonical id of the budget that applies (`acme`, `default`, `payments:default`). */
  readonly budget: string;
  readonly budgeted: true;
  /** hourly, daily, monthly or `custom N s`. */
  readonly period: string;
  /** Settled tokens this period. */
  readonly used: number;
  /** Tokens held by requests in flight. */
  readonly reserved: number;
  readonly limit: number;
  /** `limit` plus tokens rolled over from the previous period. */
  readonly allowance: number;
  /** `allowance - used - reserved`, never below 0. */
  readonly remaining: number;
  /** `used / limit`. */
  readonly usageFraction: number;
  /**
   * No further request would be admitted: settled plus reserved tokens reach
   * the ceiling (allowance plus burst). A budget that does not enforce is
   * exhausted once they reach the allowance, though it still admits.
   */
  readonly exhausted: boolean;
  readonly enforce: boolean;
  /** ISO 8601 UTC. */
  readonly periodStart: string;
  readonly periodEnd: string;
}

/** A tenant without a budget. */
export interface UnbudgetedStatus {
  readonly tenant: string;
  readonly key: string;
  readonly budgeted: false;
}
