import path from 'node:path';

import type { BudgetPeriod } from './budget-period.js';
import type { BudgetFile, BudgetsFile } from './budget-schema.js';
import { readSecret } from '../config/secret-source.js';
import type { SecretValue } from '../config/secret-value.js';
import type { TokenPart } from './token-count.js';

/** Name of the budget that applies to tenants without their own entry. */
export const DEFAULT_BUDGET = 'default';

/** One tenant's budget, compiled. */
export interface BudgetRule {
  readonly period: BudgetPeriod;
  /** Tokens per period. */
  readonly limit: number;
  /** Ascending fractions of `limit` that raise an alert once per period each. */
  readonly alertThresholds: readonly number[];
  /** Refuse past the ceiling; when false every request is admitted (Soft when over). */
  readonly enforce: boolean;
  /** Carry the previous period's unused tokens over, up to one extra `limit`. */
  readonly rollover: boolean;
  /** Fraction of the allowance that may be overspent; 0 when none. */
  readonly burstAllowance: number;
  /** Token counts charged, as written (`input`, `output`, `uncached_input`, ...). */
  readonly count: readonly TokenPart[];
}

/** Where the budget store lives. */
export type BudgetStoreConfig =
  | { readonly backend: 'embedded'; readonly path: string }
  | {
      readonly backend: 'redis';
      readonly url: string;
      readonly keyPrefix: string;
      readonly commandTimeoutMs: number;
      readonly connectTimeoutMs: number;
    };

/** The alert webhook. */
export interface AlertWebhookConfig {
  readonly url: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  /** Extra request headers; values are secrets and print as `[redacted]`. */
  readonly headers: ReadonlyMap<string, SecretValue>;
}

/** The `budgets:` section, compiled. */
export interface BudgetsConfig {
  readonly enabled: boolean;
  readonly store: BudgetStoreConfig;
  /** Admit (true) or refuse with 503 (false) while the store is unreachable. */
  readonly failOpen: boolean;
  readonly reservationTtlSeconds: number;
  readonly decideAt: 'body' | 'headers';
  /** Upstream header carrying the remaining budget; undefined to send none. */
  readonly remainingHeader: string | undefined;
  /** Budgets by tenant id; the `default` entry applies to every other tenant. */
  readonly tenants: ReadonlyMap<string, BudgetRule>;
  readonly webhook?: AlertWebhookConfig;
}

/**
 * Compiles the validated `budgets:` section. `configFile` anchors the
 * embedded store's relative path; `env` supplies webhook header variables.
 */
export function compileBudgets(
  file: BudgetsFile,
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): BudgetsConfig {
  const tenants = new Map<string, BudgetRule>();
  for (const [tenant, budget] of Object.entries(file.tenants)) {
    tenants.set(tenant, compileBudgetRule(budget));
  }

  const store = file.store;
  const webhook = file.alerts.webhook;
  return {
    enabled: file.enabled,
    store:
      store.backend === 'embedded'
        ? { backend: 'embedded', path: path.resolve(path.dirname(configFile), store.path) }
        : {
            backend: 'redis',
            url: store.url,
            keyPrefix: store.key_prefix,
            commandTimeoutMs: store.command_timeout_ms,
            connectTimeoutMs: store.connect_timeout_ms,
          },
    failOpen: file.on_store_error === 'fail_open',
    reservationTtlSeconds: file.reservation_ttl_seconds,
    decideAt: file.decide_at,
    remainingHeader: file.remaining_header ?? undefined,
    tenants,
    webhook: webhook && {
      url: webhook.url,
      timeoutMs: webhook.timeout_ms,
      retries: webhook.retries,
      backoffMs: webhook.backoff_ms,
      headers: new Map(
        Object.entries(webhook.headers).map(([name, header]) => [name, readSecret(header, env)]),
      ),
    },
  };
}

/** The budget that applies to `tenant`: its own entry, else `default`, else none. */
export function budgetFor(config: BudgetsConfig, tenant: string): BudgetRule | undefined {
  return config.tenants.get(tenant) ?? config.tenants.get(DEFAULT_BUDGET);
}

/** Compiles one budget as written (extra keys such as a scoped budget's `export` are ignored). */
export function compileBudgetRule(budget: BudgetFile): BudgetRule {
  const period = budget.period;
  return {
    period:
      typeof period === 'string'
        ? { kind: period }
        : { kind: 'custom', seconds: period.custom_seconds },
    limit: budget.limit,
    alertThresholds: budget.alert_thresholds,
    enforce: budget.enforce,
    rollover: budget.rollover,
    burstAllowance: budget.burst_allowance ?? 0,
    count: budget.count,
  };
}
