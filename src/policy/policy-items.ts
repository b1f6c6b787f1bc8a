import { compileBreakerSettings, type BreakerFileSettings } from '../breaker/breaker-schema.js';
import type { BreakerSettings } from '../breaker/breaker-settings.js';
import { compileBudgetRule, type BudgetRule } from '../budget/budgets-config.js';
import { PricingTable } from '../cost/pricing-table.js';
import { QualifiedId } from '../registry/qualified-id.js';
import { Scope } from '../registry/scope.js';
import type { ScopedItem } from '../registry/scoped-registry.js';
import { scopeSections, type NamespacesFile } from './namespaces-schema.js';
import { policyName } from './policy-name.js';
import type { TimeoutPolicy } from './timeout-policy.js';

/** The name of the price list item in each scope. */
export const PRICING_ITEM = 'pricing';

/** The name of the timeout item in each scope. */
export const TIMEOUTS_ITEM = 'timeouts';

/**
 * Every policy item of one config, global and scoped, ready for the scoped
 * registries. Breakers are named by upstream and budgets by tenant id (both
 * through {@link policyName}); each scope has at most one `pricing` and one
 * `timeouts` item.
 */
export interface PolicyItems {
  readonly breakers: readonly ScopedItem<BreakerSettings>[];
  readonly budgets: readonly ScopedItem<BudgetRule>[];
  readonly pricing: readonly ScopedItem<PricingTable>[];
  readonly timeouts: readonly ScopedItem<TimeoutPolicy>[];
}

/** The global items, compiled from the existing top-level sections. */
export interface GlobalPolicies {
  readonly breakers: ReadonlyMap<string, BreakerSettings>;
  readonly budgets: ReadonlyMap<string, BudgetRule>;
  readonly pricing?: PricingTable;
  readonly timeouts?: TimeoutPolicy;
}

/**
 * Builds the items of every scope: the global ones as given, then each
 * namespace's and service's from the file. Scoped breakers inherit
 * `breakerDefaults` field by field; a scoped price list is complete in
 * itself (it replaces the global one, it does not extend it).
 */
export function compilePolicies(
  globals: GlobalPolicies,
  namespaces: NamespacesFile,
  breakerDefaults: BreakerFileSettings,
): PolicyItems {
  const global = Scope.global();
  const breakers = [...globals.breakers].map(([upstream, item]): ScopedItem<BreakerSettings> => ({
    id: QualifiedId.of(global, policyName(upstream)),
    item,
  }));
  const budgets = [...globals.budgets].map(([tenant, item]): ScopedItem<BudgetRule> => ({
    id: QualifiedId.of(global, policyName(tenant)),
    item,
  }));
  const pricing: Array<ScopedItem<PricingTable>> = [];
  if (globals.pricing)
    pricing.push({ id: QualifiedId.global(PRICING_ITEM), item: globals.pricing });
  const timeouts: Array<ScopedItem<TimeoutPolicy>> = [];
  if (globals.timeouts) {
    timeouts.push({ id: QualifiedId.global(TIMEOUTS_ITEM), item: globals.timeouts });
  }

  for (const { scope, policies } of scopeSections(namespaces)) {
    const upstreams = policies.circuit_breakers?.upstreams ?? {};
    for (const [upstream, override] of Object.entries(upstreams)) {
      const id = QualifiedId.of(scope, policyName(upstream));
      const item = compileBreakerSettings(breakerDefaults, override);
      breakers.push({ id, item, exported: override.export });
    }

    for (const [tenant, budget] of Object.entries(policies.budgets?.tenants ?? {})) {
      const id = QualifiedId.of(scope, policyName(tenant));
      budgets.push({ id, item: compileBudgetRule(budget), exported: budget.export });
    }

    const prices = policies.cost_attribution;
    if (prices) {
      const id = QualifiedId.of(scope, PRICING_ITEM);
      pricing.push({ id, item: new PricingTable(prices), exported: prices.export });
    }

    const timeout = policies.timeouts;
    if (timeout) {
      const item = { upstreamSeconds: timeout.upstream_seconds };
      timeouts.push({ id: QualifiedId.of(scope, TIMEOUTS_ITEM), item, exported: timeout.export });
    }
  }
  return { breakers, budgets, pricing, timeouts };
}

/** The scoped breakers (not the global ones) by canonical id, for the breaker set. */
export function scopedBreakers(items: PolicyItems): Map<string, BreakerSettings> {
  const scoped = items.breakers.filter(({ id }) => id.scope.kind !== 'global');
  return new Map(scoped.map(({ id, item }) => [id.canonical, item]));
}
