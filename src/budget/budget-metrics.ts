import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The budget metrics. Each is registered once per registry and reused, so a
 * ledger rebuilt on reload (or a second ledger in a test) finds the metrics
 * the first one made instead of failing on a duplicate name.
 */
export class BudgetMetrics {
  /** Budget decisions by result: allowed, soft, exhausted, unbudgeted, unavailable. */
  readonly decisions: Counter<'result'>;
  /** Alerts raised, by threshold. */
  readonly alerts: Counter<'threshold'>;
  /** Settled tokens this period, for tenants named in the config only. */
  readonly used: Gauge<'tenant'>;
  /** Tokens left this period, for tenants named in the config only. */
  readonly remaining: Gauge<'tenant'>;
  /** Budget store operations that failed, by operation. */
  readonly storeErrors: Counter<'operation'>;

  constructor(registry: Registry) {
    this.decisions = counterIn(registry, {
      name: 'tollgate_budget_decisions_total',
      help: 'Token budget decisions, by result (allowed, soft, exhausted, unbudgeted, unavailable)',
      labelNames: ['result'],
    });
    this.alerts = counterIn(registry, {
      name: 'tollgate_budget_alerts_total',
      help: 'Token budget alerts raised (a threshold reached, once per tenant per period)',
      labelNames: ['threshold'],
    });
    this.used = gaugeIn(registry, {
      name: 'tollgate_budget_used_tokens',
      help: 'Tokens settled in the current period, for tenants named in budgets.tenants',
      labelNames: ['tenant'],
    });
    this.remaining = gaugeIn(registry, {
      name: 'tollgate_budget_remaining_tokens',
      help: 'Tokens left in the current period, for tenants named in budgets.tenants',
      labelNames: ['tenant'],
    });
    this.storeErrors = counterIn(registry, {
      name: 'tollgate_budget_store_errors_total',
      help: 'Budget store operations that failed (store unreachable or too slow), by operation',
      labelNames: ['operation'],
    });
  }
}

interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

function counterIn<L extends string>(registry: Registry, spec: MetricSpec<L>): Counter<L> {
  const existing = registry.getSingleMetric(spec.name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ ...spec, registers: [registry] });
}

function gaugeIn<L extends string>(registry: Registry, spec: MetricSpec<L>): Gauge<L> {
  const existing = registry.getSingleMetric(spec.name);
  if (existing instanceof Gauge) return existing as Gauge<L>;
  return new Gauge<L>({ ...spec, registers: [registry] });
}
