import { z } from 'zod';

import { breakerOverrideSchema } from '../breaker/breaker-schema.js';
import { budgetSchema } from '../budget/budget-schema.js';
import { checkPriceList, priceListFields } from '../cost/pricing-schema.js';
import { Scope } from '../registry/scope.js';
import { ALWAYS } from './policy-checks.js';
import { isScopePart, SCOPE_PART_RULE } from './policy-name.js';
import { timeoutFields } from './timeout-policy.js';

/** Visible from every scope under its name (one exporter per name and kind). */
const exportFlag = z.boolean({ error: 'expected true or false' }).default(false);

/**
 * A map keyed by namespace or service names. Keys are checked here rather
 * than by a key schema, so that a bad name is reported with its own message.
 */
const scopeMap = <T extends z.ZodType>(what: 'namespace' | 'service', value: T) =>
  z.record(z.string(), value).superRefine((map, context) => {
    for (const name of Object.keys(map)) {
      if (isScopePart(name)) continue;
      const message = `a ${what} name is ${SCOPE_PART_RULE}; got ${JSON.stringify(name)}`;
      context.addIssue({ code: 'custom', path: [name], message });
    }
  }, ALWAYS);

/** `name:` with nothing under it means "the defaults, not exported". */
const orEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === null ? {} : value), schema);

const scopedBreakerSchema = breakerOverrideSchema.extend({ export: exportFlag });
const scopedBudgetSchema = budgetSchema.extend({ export: exportFlag });
const scopedPriceListSchema = z
  .strictObject({ ...priceListFields, export: exportFlag })
  .superRefine(checkPriceList);
const scopedTimeoutsSchema = z.strictObject({ ...timeoutFields, export: exportFlag });

/** The policies a namespace or a service may define; each part is optional. */
const policyFields = {
  /** Breakers of this scope, by upstream name; unset fields inherit `circuit_breakers.defaults`. */
  circuit_breakers: z
    .strictObject({
      /** Per-upstream settings, keyed by upstream name, each with `export`. */
      upstreams: z
        .record(z.string().min(1, 'an upstream name cannot be empty'), orEmpty(scopedBreakerSchema))
        .default({}),
    })
    .optional(),
  /** Budgets of this scope, by tenant id; `default` applies to tenants without an entry. */
  budgets: z
    .strictObject({
      /** Budgets keyed by tenant id (or `default`), each with `export`. */
      tenants: z
        .record(z.string().min(1, 'a tenant id cannot be empty'), scopedBudgetSchema)
        .default({}),
    })
    .optional(),
  /** This scope's price list (one item, named `pricing`), replacing the global one. */
  cost_attribution: scopedPriceListSchema.optional(),
  /** This scope's upstream timeout (one item, named `timeouts`). */
  timeouts: scopedTimeoutsSchema.optional(),
};

const serviceSchema = orEmpty(z.strictObject(policyFields));

const namespaceSchema = orEmpty(
  z.strictObject({
    ...policyFields,
    /** Services of the namespace, by name; each may define the same policies. */
    services: scopeMap('service', serviceSchema).default({}),
  }),
);

/**
 * The `namespaces:` section: policies per team (namespace) and per service
 * inside it, resolved per request from its scope: the service's item, then
 * the namespace's, then an exported one, then the global one.
 */
export const namespacesSchema = scopeMap('namespace', namespaceSchema).default({});

/** The `namespaces:` section as written, after defaults. */
export type NamespacesFile = z.output<typeof namespacesSchema>;

/** The policies of one namespace or service as written. */
export type ScopePoliciesFile = z.output<z.ZodObject<typeof policyFields>>;

/** One namespace or service section with where it lives in the scope tree and the file. */
export interface ScopeSection {
  readonly scope: Scope;
  /** YAML path of the section, e.g. `['namespaces', 'payments', 'services', 'api']`. */
  readonly path: readonly string[];
  readonly policies: ScopePoliciesFile;
}

/** Every namespace and service section, in file order (a namespace before its services). */
export function scopeSections(namespaces: NamespacesFile): ScopeSection[] {
  const sections: ScopeSection[] = [];

  for (const [namespace, section] of Object.entries(namespaces)) {
    const path = ['namespaces', namespace];
    sections.push({ scope: Scope.namespace(namespace), path, policies: section });

    for (const [service, policies] of Object.entries(section.services)) {
      const scope = Scope.service(namespace, service);
      sections.push({ scope, path: [...path, 'services', service], policies });
    }
  }
  return sections;
}
