import type { BreakerSettings } from '../breaker/breaker-settings.js';
import type { BudgetRule } from '../budget/budgets-config.js';
import type { PricingTable } from '../cost/pricing-table.js';
import { exportsOf, ScopedRegistry, type ScopedItem } from '../registry/scoped-registry.js';
import type { ScopedView } from '../registry/scoped-view.js';
import type { PolicyItems } from './policy-items.js';
import type { TimeoutPolicy } from './timeout-policy.js';

/**
 * The policies of one applied config, frozen: what an engine (and every
 * stream that started with it) resolves against, whatever reloads follow.
 */
export interface PolicySnapshot {
  readonly breakers: ScopedView<BreakerSettings>;
  readonly budgets: ScopedView<BudgetRule>;
  readonly pricing: ScopedView<PricingTable>;
  readonly timeouts: ScopedView<TimeoutPolicy>;
}

/** What {@link PolicyRegistries.replaceAll} made live, and how to take it back. */
export interface StagedPolicies {
  /** The new items, for the engine built on them. */
  readonly snapshot: PolicySnapshot;
  /** Puts back what was live before, for an apply that fails after the swap. */
  undo(): void;
}

type Kind = keyof PolicySnapshot;

const KINDS: readonly Kind[] = ['breakers', 'budgets', 'pricing', 'timeouts'];

/**
 * The long-lived registries of scoped policies, one per kind. Each applied
 * config replaces all four in one synchronous step; engines hold a
 * {@link PolicySnapshot}, so a stream keeps the policies it started with and
 * only streams that start after the swap see the new ones.
 */
export class PolicyRegistries {
  private readonly registries = {
    breakers: new ScopedRegistry<BreakerSettings>(),
    budgets: new ScopedRegistry<BudgetRule>(),
    pricing: new ScopedRegistry<PricingTable>(),
    timeouts: new ScopedRegistry<TimeoutPolicy>(),
  };

  /** A registry set holding `items` alone, for an engine built outside a reload. */
  static snapshotOf(items: PolicyItems): PolicySnapshot {
    return new PolicyRegistries().replaceAll(items).snapshot;
  }

  /**
   * Replaces every kind's items at once. Exports are checked for every kind
   * before any registry changes, so a `DuplicateExportError` (which config
   * validation reports first) leaves all four as they were.
   */
  replaceAll(items: PolicyItems): StagedPolicies {
    for (const kind of KINDS) exportsOf(entriesOf<unknown>(items[kind]));

    const r = this.registries;
    const old = {
      breakers: r.breakers.replaceAll(items.breakers),
      budgets: r.budgets.replaceAll(items.budgets),
      pricing: r.pricing.replaceAll(items.pricing),
      timeouts: r.timeouts.replaceAll(items.timeouts),
    };
    return {
      snapshot: this.snapshot(),
      undo: () => {
        r.breakers.replaceAll(old.breakers.entries());
        r.budgets.replaceAll(old.budgets.entries());
        r.pricing.replaceAll(old.pricing.entries());
        r.timeouts.replaceAll(old.timeouts.entries());
      },
    };
  }

  /** The live items of every kind, frozen. O(1). */
  snapshot(): PolicySnapshot {
    const r = this.registries;
    return {
      breakers: r.breakers.snapshot(),
      budgets: r.budgets.snapshot(),
      pricing: r.pricing.snapshot(),
      timeouts: r.timeouts.snapshot(),
    };
  }
}

function entriesOf<T>(items: readonly ScopedItem<T>[]) {
  return items.map(({ id, item, exported = false }) => ({ id, item, exported }));
}
