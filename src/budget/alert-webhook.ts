import type { Logger } from 'pino';
import { request } from 'undici';

import { systemClock, type Clock } from '../time/clock.js';
import { alertPayload, type BudgetAlert } from './budget-alert.js';
import type { AlertWebhookConfig } from './budgets-config.js';

/** Alerts waiting to be sent; past it new alerts are dropped (and logged). */
export const MAX_QUEUED_ALERTS = 1000;

/**
 * Sends budget alerts to a webhook, one at a time, off the request path:
 * {@link AlertWebhook.send} only queues. Each alert is POSTed as JSON with a
 * timeout per attempt and retried with doubling waits; an alert that still
 * fails is logged and dropped. Header values are secrets and never logged.
 */
export class AlertWebhook {
  private readonly queue: BudgetAlert[] = [];
  private readonly stopped = new AbortController();
  private draining: Promise<void> | undefined;
  private dropWarned = false;

  constructor(
    private readonly config: AlertWebhookConfig,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Queues `alert` for sending; false when the queue is full or the webhook closed. */
  send(alert: BudgetAlert): boolean {
    if (this.stopped.signal.aborted) return false;
    if (this.queue.length >= MAX_QUEUED_ALERTS) {
      this.warnDropped();
      return false;
    }

    this.queue.push(alert);
    this.draining ??= this.drain();
    return true;
  }

  /** Resolves once every queued alert has been sent or given up on. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops sending: the attempt in flight is aborted and queued alerts are dropped. */
  async close(): Promise<void> {
    this.stopped.abort();
    this.queue.length = 0;
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let alert = this.queue.shift(); alert; alert = this.queue.shift()) {
      await this.deliver(alert);
    }
    this.draining = undefined;
    this.dropWarned = false;
  }

  private async deliver(alert: BudgetAlert): Promise<void> {
    const body = JSON.stringify(alertPayload(alert));
    let reason = '';

    for (let attempt = 0; attempt <= this.config.retries; attempt++) {
      if (attempt > 0) await this.wait(this.config.backoffMs * 2 ** (attempt - 1));
      if (this.stopped.signal.aborted) return;

      reason = await this.post(body);
      if (reason === '') return;
    }

    this.logger.warn(
      {
        tenant: alert.tenant,
        threshold: alert.threshold,
        attempts: this.config.retries + 1,
        reason,
      },
      'budget alert webhook failed; the alert was logged and counted but not delivered',
    );
  }

  /** One attempt: '' when the webhook answered 2xx, else why not. */
  private async post(body: string): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of this.config.headers) headers[name] = value.reveal();

    try {
      const signal = AbortSignal.any([
        this.stopped.signal,
        AbortSignal.timeout(this.config.timeoutMs),
      ]);
      const response = await request(this.config.url, { method: 'POST', headers, body, signal });
      await response.body.dump();
      return response.statusCode < 300 ? '' : `answered ${response.statusCode}`;
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      if (timedOut) return `no answer within ${this.config.timeoutMs} ms`;
      return error instanceof Error ? error.message : String(error);
    }
  }

  private wait(ms: number): Promise<void> {
    const signal = this.stopped.signal;
    return new Promise((resolve) => {
      const finish = () => {
        signal.removeEventListener('abort', finish);
        timer.cancel();
        resolve();
      };
      const timer = this.clock.schedule(ms, finish);
      signal.addEventListener('abort', finish);
    });
  }

  private warnDropped(): void {
    if (this.dropWarned) return;

    this.dropWarned = true;
    this.logger.warn(
      { queued: this.queue.length },
      'budget alert webhook is falling behind: new alerts are dropped until the queue drains',
    );
  }
}
