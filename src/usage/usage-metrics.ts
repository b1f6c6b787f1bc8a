import { Counter, Histogram, type Registry } from 'prom-client';

import type { CostResult } from '../cost/cost-calculator.js';
import { nanosToCurrency } from '../cost/money.js';
import { LabelGuard } from './label-guard.js';
import type { TokenUsage } from './token-usage.js';
import type { UsageSettlement } from './usage-account.js';

const TOKEN_TYPES: ReadonlyArray<readonly [string, keyof TokenUsage]> = [
  ['input', 'input'],
  ['cached_input', 'cachedInput'],
  ['cache_creation', 'cacheCreation'],
  ['output', 'output'],
  ['reasoning', 'reasoning'],
];

/** Which labels the usage metrics carry, and how many values each may take. */
export interface UsageMetricLabels {
  readonly maxModelLabels: number;
  /** Add a `tenant` label to the token and cost counters. */
  readonly tenantLabels: boolean;
  readonly maxTenantLabels: number;
}

/**
 * The token and cost metrics. Model and tenant labels are bounded by a
 * {@link LabelGuard} each, because model names come from clients and
 * upstreams, and tenant ids from headers and API keys.
 */
export class UsageMetrics {
  private readonly models: LabelGuard;
  private readonly tenants: LabelGuard | undefined;
  private readonly tokens: Counter<'model' | 'type' | 'tenant'>;
  private readonly cost: Counter<'model' | 'currency' | 'tenant'>;
  private readonly perRequest: Histogram<'type'>;
  private readonly settlements: Counter<'source'>;
  private readonly missing: Counter<'reason'>;
  private readonly fallbackPrices: Counter<'model' | 'matched'>;
  private readonly rejected: Counter<'field'>;

  /**
   * Every engine a config reload builds makes its own UsageMetrics on the
   * same registry: the metrics are registered by the first and reused after,
   * and so are the label guards, so reloads cannot grow the label count. The
   * counters declare `tenant` whether or not it is used, so that a reload can
   * turn tenant labels on or off.
   */
  constructor(registry: Registry, labels: UsageMetricLabels) {
    const registers = [registry];
    this.models = labelGuardFor(registry, 'model', labels.maxModelLabels);
    this.tenants = labels.tenantLabels
      ? labelGuardFor(registry, 'tenant', labels.maxTenantLabels)
      : undefined;
    this.tokens = reuse(registry, Counter, {
      name: 'tollgate_tokens_total',
      help:
        'Tokens charged, by model, type and (when enabled) tenant ' +
        '(input includes cached_input and cache_creation)',
      labelNames: ['model', 'type', 'tenant'],
      registers,
    });
    this.cost = reuse(registry, Counter, {
      name: 'tollgate_cost_total',
      help: 'Cost charged, in currency units, by model, currency and (when enabled) tenant',
      labelNames: ['model', 'currency', 'tenant'],
      registers,
    });
    this.perRequest = reuse(registry, Histogram, {
      name: 'tollgate_request_tokens',
      help: 'Tokens per request, by type',
      labelNames: ['type'],
      buckets: [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
      registers,
    });
    this.settlements = reuse(registry, Counter, {
      name: 'tollgate_usage_settlements_total',
      help: 'Requests settled, by where the usage came from (reported, partial, estimated, none)',
      labelNames: ['source'],
      registers,
    });
    this.missing = reuse(registry, Counter, {
      name: 'tollgate_usage_missing_total',
      help:
        'Requests whose response reported no usage, or ended before its final output ' +
        'count (incomplete_stream), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.fallbackPrices = reuse(registry, Counter, {
      name: 'tollgate_cost_fallback_prices_total',
      help: 'Requests priced without a matching pricing entry (default prices, or unpriced)',
      labelNames: ['model', 'matched'],
      registers,
    });
    this.rejected = reuse(registry, Counter, {
      name: 'tollgate_usage_rejected_values_total',
      help: 'Usage values in responses that were not trusted (negative, fractional, huge, text)',
      labelNames: ['field'],
      registers,
    });
  }

  /**
   * Counts one settled request and, when priced, its cost. With tenant labels
   * on, a request without a tenant is labelled `unknown`.
   */
  record(settlement: UsageSettlement, cost: CostResult | undefined, tenant?: string): void {
    const model = this.models.label(settlement.model);
    const byTenant = this.tenants ? { tenant: this.tenants.label(tenant) } : {};
    const { usage } = settlement;

    this.settlements.inc({ source: settlement.source });
    if (settlement.missing) this.missing.inc({ reason: settlement.missing });
    for (const field of settlement.rejected) this.rejected.inc({ field });
    for (const [type, key] of TOKEN_TYPES) {
      if (usage[key] > 0) this.tokens.inc({ model, type, ...byTenant }, usage[key]);
    }
    this.perRequest.observe({ type: 'input' }, usage.input);
    this.perRequest.observe({ type: 'output' }, usage.output);

    if (!cost) return;
    if (cost.matchedBy === 'default' || cost.matchedBy === 'unpriced') {
      this.fallbackPrices.inc({ model, matched: cost.matchedBy });
    }
    if (cost.totalNanos !== undefined && cost.totalNanos > 0) {
      const labels = { model, currency: cost.currency, ...byTenant };
      this.cost.inc(labels, nanosToCurrency(cost.totalNanos));
    }
  }
}

const labelGuards = new WeakMap<Registry, Map<string, LabelGuard>>();

// The first guard made for a label on a registry is kept: a reload that
// changes the cap takes effect at the next start.
function labelGuardFor(registry: Registry, label: string, max: number): LabelGuard {
  const guards = labelGuards.get(registry) ?? new Map<string, LabelGuard>();
  const guard = guards.get(label) ?? new LabelGuard(max);
  guards.set(label, guard);
  labelGuards.set(registry, guards);
  return guard;
}

/** The metric named `spec.name` in `registry`, created on first use. */
function reuse<M extends Counter<string> | Histogram<string>, S extends { name: string }>(
  registry: Registry,
  Metric: new (spec: S) => M,
  spec: S,
): M {
  const existing = registry.getSingleMetric(spec.name);
  if (existing instanceof Metric) return existing;
  return new Metric(spec);
}
