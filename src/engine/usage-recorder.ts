import { calculateCost, type CostResult } from '../cost/cost-calculator.js';
import type { PricingTable } from '../cost/pricing-table.js';
import type { UsageSettlement } from '../usage/usage-account.js';
import type { UsageMetrics } from '../usage/usage-metrics.js';

/** A request's settled usage and, when cost attribution is on, what it cost. */
export interface ExchangeOutcome {
  readonly settlement: UsageSettlement;
  readonly cost?: CostResult;
}

/** Prices settled usage and counts it in the metrics. */
export class UsageRecorder {
  constructor(
    private readonly pricing: PricingTable | undefined,
    private readonly metrics: UsageMetrics,
  ) {}

  /**
   * Prices and records one settlement, charged to `tenant` when known; call
   * once per request. A request charged nothing (`none`: not an LLM call, a
   * failed or empty response) gets no cost, so it never counts as an
   * unpriced model.
   */
  record(settlement: UsageSettlement, tenant?: string): ExchangeOutcome {
    const priced = this.pricing && settlement.source !== 'none';
    const cost = priced
      ? calculateCost(settlement.usage, settlement.model, this.pricing!)
      : undefined;

    this.metrics.record(settlement, cost, tenant);
    return { settlement, cost };
  }
}
