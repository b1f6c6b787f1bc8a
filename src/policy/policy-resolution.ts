import type { Scope } from '../registry/scope.js';
import type { ResolutionStep, ScopedView } from '../registry/scoped-view.js';
import { rawName } from './policy-name.js';
import type { PolicySnapshot } from './policy-registries.js';

/** Where one lookup resolved: the item's canonical id and the step that found it. */
export interface ResolvedPolicy {
  readonly id: string;
  readonly step: ResolutionStep;
}

/** Per kind, every name known in any scope → what it resolves to from one scope (or null). */
export type ResolutionReport = Readonly<
  Record<keyof PolicySnapshot, Readonly<Record<string, ResolvedPolicy | null>>>
>;

/**
 * What each lookup resolves to from `scope`, for /status: for every kind,
 * each name that some scope defines (upstreams and tenants as written, not
 * escaped), with the id found and the step that found it, or null when
 * nothing applies from this scope.
 */
export function describeResolution(policies: PolicySnapshot, scope: Scope): ResolutionReport {
  return {
    breakers: resolveAll(policies.breakers, scope),
    budgets: resolveAll(policies.budgets, scope),
    pricing: resolveAll(policies.pricing, scope),
    timeouts: resolveAll(policies.timeouts, scope),
  };
}

function resolveAll<T>(view: ScopedView<T>, scope: Scope): Record<string, ResolvedPolicy | null> {
  const names = [...new Set(view.keys().map((id) => id.name))].sort();

  const report: Record<string, ResolvedPolicy | null> = {};
  for (const name of names) {
    const found = view.resolveEntry(name, scope);
    report[rawName(name)] = found ? { id: found.id.canonical, step: found.step } : null;
  }
  return report;
}
