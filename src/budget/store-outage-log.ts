import type { Logger } from 'pino';

/**
 * Logs a budget store outage once when it starts and once when it ends,
 * however many requests fail in between.
 */
export class StoreOutageLog {
  private down = false;

  constructor(
    private readonly logger: Logger,
    private readonly backend: string,
    private readonly failOpen: boolean,
  ) {}

  /** Records a failed operation. */
  failed(error: Error): void {
    if (this.down) return;

    this.down = true;
    const policy = this.failOpen
      ? 'requests are admitted unchecked (on_store_error: fail_open)'
      : 'requests are answered 503 (on_store_error: fail_closed)';
    this.logger.warn(
      { backend: this.backend, reason: error.message },
      `budget store is unavailable: ${policy} until it returns; retrying in the background. ` +
        'Usage of requests that end meanwhile is not counted ' +
        '(tollgate_budget_store_errors_total{operation="settle"})',
    );
  }

  /** Records a successful operation. */
  succeeded(): void {
    if (!this.down) return;

    this.down = false;
    this.logger.info({ backend: this.backend }, 'budget store is available again');
  }
}
