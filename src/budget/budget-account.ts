import { policyName, rawName } from '../policy/policy-name.js';
import { QualifiedId } from '../registry/qualified-id.js';
import { Scope } from '../registry/scope.js';
import { ScopedRegistry } from '../registry/scoped-registry.js';
import type { ScopedLookup } from '../registry/scoped-view.js';
import { DEFAULT_BUDGET, type BudgetRule } from './budgets-config.js';

/**
 * Who a request is charged to: the tenant, the budget that applies, and the
 * store key of the counter it is charged on.
 *
 * The key is the budget's scope and the tenant: `acme` for a global budget,
 * `payments:acme` for one of namespace `payments`, `payments:api:acme` for a
 * service's. So a scoped budget counts apart from the global one, and an
 * exported budget (keyed by its exporter's scope) is one counter for every
 * scope that resolves to it. A tenant id with `:` or `%` is written escaped
 * in the key (`org%3Aacme`), so every key reads back one way.
 */
export interface BudgetAccount {
  readonly tenant: string;
  readonly key: string;
  /** The budget that applies; undefined when the tenant has none. */
  readonly rule: BudgetRule | undefined;
  /** The canonical id of that budget (`payments:default`), when there is one. */
  readonly budget?: string;
}

/** The rules of a budgets section alone, all global: how a ledger without scopes sees them. */
export function globalBudgetRules(
  tenants: ReadonlyMap<string, BudgetRule>,
): ScopedLookup<BudgetRule> {
  const registry = new ScopedRegistry<BudgetRule>();
  registry.replaceAll(
    [...tenants].map(([tenant, item]) => ({ id: QualifiedId.global(policyName(tenant)), item })),
  );
  return registry.snapshot();
}

/**
 * The account of `tenant` in `scope`: the budget that `tenant` resolves to,
 * else the one `default` resolves to (service, namespace, exported, global
 * at each), keyed in the scope where that budget was found.
 */
export function resolveAccount(
  rules: ScopedLookup<BudgetRule>,
  tenant: string,
  scope: Scope,
): BudgetAccount {
  const name = policyName(tenant);
  const found = rules.resolveEntry(name, scope) ?? rules.resolveEntry(DEFAULT_BUDGET, scope);
  if (!found) return { tenant, key: keyIn(Scope.global(), name), rule: undefined };

  const key = keyIn(found.id.scope, name);
  return { tenant, key, rule: found.item, budget: found.id.canonical };
}

/**
 * The account a store key stands for (the admin port names counters by key):
 * the tenant's budget in exactly the key's scope, else that scope's
 * `default`. Undefined when the text is not a key.
 */
export function accountAt(rules: ScopedLookup<BudgetRule>, key: string): BudgetAccount | undefined {
  const parsed = QualifiedId.tryParse(key);
  if (!parsed.ok) return undefined;

  const { scope, name } = parsed.id;
  const tenant = rawName(name);
  const own = rules.get(parsed.id);
  const found = own ? parsed.id : QualifiedId.of(scope, DEFAULT_BUDGET);
  const rule = own ?? rules.get(found);
  return { tenant, key: keyIn(scope, policyName(tenant)), rule, budget: rule && found.canonical };
}

function keyIn(scope: Scope, name: string): string {
  switch (scope.kind) {
    case 'global':
      return name;
    case 'namespace':
      return `${scope.namespace}:${name}`;
    case 'service':
      return `${scope.namespace}:${scope.service}:${name}`;
  }
}
