import type { Logger } from 'pino';

import type { AlertWebhook } from './alert-webhook.js';
import type { BudgetAlert } from './budget-alert.js';
import type { BudgetMetrics } from './budget-metrics.js';

/**
 * Raises budget alerts: a warn log line, `tollgate_budget_alerts_total`, and
 * (when configured) a webhook POST queued off the request path. Which
 * thresholds fire is decided by the store, once per tenant per period across
 * every replica; this only reports them.
 */
export class BudgetAlerts {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: BudgetMetrics,
    private readonly webhook: AlertWebhook | undefined,
  ) {}

  /** Reports `alert` at once; the webhook delivery happens later. */
  raise(alert: BudgetAlert): void {
    this.metrics.alerts.inc({ threshold: String(alert.threshold) });
    this.logger.warn(
      { ...alert, usageFraction: alert.used / alert.limit },
      `tenant ${alert.tenant} has used ${Math.round(alert.threshold * 100)}% of its token budget`,
    );
    this.webhook?.send(alert);
  }

  /** Resolves when the webhook has no alert waiting or in flight. */
  whenDelivered(): Promise<void> {
    return this.webhook?.idle() ?? Promise.resolve();
  }

  /** Stops webhook delivery; queued alerts are dropped. */
  async close(): Promise<void> {
    await this.webhook?.close();
  }
}
