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

/**
 * The token and cost metrics. Model labels are bounded by a {@link LabelGuard}
 * because model names come from clients and upstreams.
 */
export class UsageMetrics {
  private readonly models: LabelGuard;
  private readonly tokens: Counter<'model' | 'type'>;
  private readonly cost: Counter<'model' | 'currency'>;
  private readonly perRequest: Histogram<'type'>;
  private readonly settlements: Counter<'source'>;
  private readonly missing: Counter<'reason'>;
  private readonly fallbackPrices: Counter<'model' | 'matched'>;
  private readonly rejected: Counter<'field'>;

  /**
   * Every engine a config reload builds makes its own UsageMetrics on the
   * same registry: the metrics are registered by the first and reused after,
   * and so is the model label guard, so reloads cannot grow the label count.
   */
  constructor(registry: Registry, maxModelLabels: number) {
    const registers = [registry];
    this.models = labelGuardFor(registry, maxModelLabels);
    this.tokens = reuse(registry, Counter, {
      name: 'tollgate_tokens_total',
      help: 'Tokens charged, by model and type (input includes cached_input and cache_creation)',
      labelNames: ['model', 'type'],
      registers,
    });
    this.cost = reuse(registry, Counter, {
      name: 'tollgate_cost_total',
      help: 'Cost charged, in currency units, by model and currency',
      labelNames: ['model', 'currency'],
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
      help: 'Requests whose response reported no usage, by reason',
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

  /** Counts one settled request and, when priced, its cost. */
  record(settlement: UsageSettlement, cost: CostResult | undefined): void {
    const model = this.models.label(settlement.model);
    const { usage } = settlement;

    this.settlements.inc({ source: settlement.source });
    if (settlement.missing) this.missing.inc({ reason: settlement.missing });
    for (const field of settlement.rejected) this.rejected.inc({ field });
    for (const [type, key] of TOKEN_TYPES) {
      if (usage[key] > 0) this.tokens.inc({ model, type }, usage[key]);
    }
    this.perRequest.observe({ type: 'input' }, usage.input);
    this.perRequest.observe({ type: 'output' }, usage.output);

    if (!cost) return;
    if (cost.matchedBy === 'default' || cost.matchedBy === 'unpriced') {
      this.fallbackPrices.inc({ model, matched: cost.matchedBy });
    }
    if (cost.totalNanos !== undefined && cost.totalNanos > 0) {
      this.cost.inc({ model, currency: cost.currency }, nanosToCurrency(cost.totalNanos));
    }
  }
}

const labelGuards = new WeakMap<Registry, LabelGuard>();

function labelGuardFor(registry: Registry, maxModelLabels: number): LabelGuard {
  const guard = labelGuards.get(registry) ?? new LabelGuard(maxModelLabels);
  labelGuards.set(registry, guard);
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
