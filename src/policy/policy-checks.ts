import type { z } from 'zod';

import { QualifiedId } from '../registry/qualified-id.js';
import { Scope } from '../registry/scope.js';
import { isScopePart, policyName } from './policy-name.js';

/** An exported item: its kind, its name, and where it is written. */
interface Export {
  readonly kind: 'breaker' | 'budget' | 'pricing' | 'timeouts';
  readonly name: string;
  readonly label: string;
  readonly path: readonly string[];
}

/** A namespace or service section as parsed so far (possibly with problems of its own). */
interface RawSection {
  readonly scope: Scope;
  readonly path: readonly string[];
  readonly section: Record<string, unknown>;
}

/**
 * Options for the top-level refinement: it runs even when other keys have
 * problems, so that a duplicate export is reported together with them rather
 * than after they are fixed. It therefore reads the file defensively.
 */
export const ALWAYS = { when: () => true } as const;

/**
 * Top-level checks across namespaces, reported with every other problem at
 * load and at reload, each at its own path (so with its line):
 *
 * - one exporter per name and kind: a second export of the same name is a
 *   problem at its `export` key, naming the first;
 * - a breaker under `circuit_breakers.upstreams` cannot take the id of a
 *   scoped breaker (`NAMESPACE:UPSTREAM`), or both would answer to that name;
 * - scoped budgets need `budgets.enabled: true`.
 */
export function checkScopedPolicies(file: unknown, context: z.RefinementCtx): void {
  const top = record(file);
  if (!top) return;
  const sections = rawSections(top.namespaces);

  const first = new Map<string, Export>();
  for (const item of sections.flatMap(exportsOf)) {
    const key = `${item.kind}\n${item.name}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, item);
      continue;
    }
    context.addIssue({
      code: 'custom',
      path: [...item.path],
      message:
        `${item.label} is already exported by ${earlier.path.slice(0, -1).join('.')}; ` +
        'a name is exported from one scope only: remove one of the exports',
    });
  }

  checkBreakerIds(record(record(top.circuit_breakers)?.upstreams), sections, context);
  if (record(top.budgets)?.enabled !== true) checkBudgetsEnabled(sections, context);
}

function rawSections(namespaces: unknown): RawSection[] {
  const sections: RawSection[] = [];

  for (const [namespace, value] of Object.entries(record(namespaces) ?? {})) {
    const section = record(value);
    if (!section || !isScopePart(namespace)) continue;
    const path = ['namespaces', namespace];
    sections.push({ scope: Scope.namespace(namespace), path, section });

    for (const [service, policies] of Object.entries(record(section.services) ?? {})) {
      const inner = record(policies);
      if (!inner || !isScopePart(service)) continue;
      const scope = Scope.service(namespace, service);
      sections.push({ scope, path: [...path, 'services', service], section: inner });
    }
  }
  return sections;
}

function exportsOf({ path, section }: RawSection): Export[] {
  const found: Export[] = [];

  for (const [upstream, breaker] of entriesAt(section, 'circuit_breakers', 'upstreams')) {
    if (record(breaker)?.export !== true) continue;
    const where = [...path, 'circuit_breakers', 'upstreams', upstream, 'export'];
    const label = `the breaker of upstream ${JSON.stringify(upstream)}`;
    found.push({ kind: 'breaker', name: policyName(upstream), label, path: where });
  }

  for (const [tenant, budget] of entriesAt(section, 'budgets', 'tenants')) {
    if (record(budget)?.export !== true) continue;
    const where = [...path, 'budgets', 'tenants', tenant, 'export'];
    const label = `the budget of ${JSON.stringify(tenant)}`;
    found.push({ kind: 'budget', name: policyName(tenant), label, path: where });
  }

  if (record(section.cost_attribution)?.export === true) {
    const where = [...path, 'cost_attribution', 'export'];
    found.push({ kind: 'pricing', name: 'pricing', label: 'a price list', path: where });
  }
  if (record(section.timeouts)?.export === true) {
    const where = [...path, 'timeouts', 'export'];
    found.push({ kind: 'timeouts', name: 'timeouts', label: 'a timeout', path: where });
  }
  return found;
}

function checkBreakerIds(
  globalUpstreams: Record<string, unknown> | undefined,
  sections: readonly RawSection[],
  context: z.RefinementCtx,
): void {
  const scoped = new Map<string, readonly string[]>();
  for (const { scope, path, section } of sections) {
    for (const [upstream] of entriesAt(section, 'circuit_breakers', 'upstreams')) {
      if (upstream === '') continue;
      const id = QualifiedId.of(scope, policyName(upstream)).canonical;
      scoped.set(id, [...path, 'circuit_breakers', 'upstreams', upstream]);
    }
  }

  for (const name of Object.keys(globalUpstreams ?? {})) {
    const clash = scoped.get(name);
    if (!clash) continue;

    context.addIssue({
      code: 'custom',
      path: ['circuit_breakers', 'upstreams', name],
      message:
        `is also the id of the scoped breaker ${clash.join('.')}; breakers are named by ` +
        'id on /status and the admin port, so rename one',
    });
  }
}

function checkBudgetsEnabled(sections: readonly RawSection[], context: z.RefinementCtx): void {
  for (const { path, section } of sections) {
    if (entriesAt(section, 'budgets', 'tenants').length === 0) continue;

    context.addIssue({
      code: 'custom',
      path: [...path, 'budgets'],
      message: 'scoped budgets need budgets.enabled: true (they are not enforced while it is off)',
    });
  }
}

function entriesAt(section: Record<string, unknown>, outer: string, inner: string) {
  return Object.entries(record(record(section[outer])?.[inner]) ?? {});
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
