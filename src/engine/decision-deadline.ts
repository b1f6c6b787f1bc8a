import type { Logger } from 'pino';
import type { Counter } from 'prom-client';

import type { Clock, TimerHandle } from '../time/clock.js';

/** What a step that missed its deadline resolves with. */
export const LATE = Symbol('late');

/** The budget store steps a request waits on. */
export type DeadlineOperation = 'reserve' | 'check' | 'settle';

/** What a {@link DecisionDeadline} is built from. */
export interface DecisionDeadlineDeps {
  /** `server.decision_deadline_ms`. */
  readonly ms: number;
  readonly clock: Clock;
  /** Counts steps that missed the deadline, by operation. */
  readonly exceeded: Counter<'operation'>;
  readonly logger: Logger;
  /** `budgets.on_store_error`, for the log line. */
  readonly failOpen: boolean;
}

/**
 * The longest a request waits for the budget store. Envoy gives each ext_proc
 * message `message_timeout` (200 ms by default) and then answers 504 itself;
 * a store that answers later than this deadline is treated as unreachable, so
 * tollgate answers first, by `budgets.on_store_error`. The store's late
 * answer still arrives; what to do with it is the caller's (a reservation is
 * released). Missed deadlines are logged once when they start and once when
 * the store is on time again, however many requests miss it in between.
 */
export class DecisionDeadline {
  private late = false;

  constructor(private readonly deps: DecisionDeadlineDeps) {}

  /** The deadline in milliseconds. */
  get ms(): number {
    return this.deps.ms;
  }

  /** Resolves with what `step` resolves with, or with {@link LATE} if the deadline comes first. */
  async race<T>(operation: DeadlineOperation, step: Promise<T>): Promise<T | typeof LATE> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<typeof LATE>((resolve) => {
      timer = this.deps.clock.schedule(this.deps.ms, () => resolve(LATE));
    });

    try {
      const result = await Promise.race([step, deadline]);
      if (result === LATE) this.missed(operation);
      else this.met();
      return result;
    } finally {
      timer?.cancel();
    }
  }

  private missed(operation: DeadlineOperation): void {
    this.deps.exceeded.inc({ operation });
    if (this.late) return;

    this.late = true;
    const policy = this.deps.failOpen
      ? 'requests are admitted unchecked (on_store_error: fail_open)'
      : 'requests are answered 503 (on_store_error: fail_closed)';
    this.deps.logger.warn(
      { operation, deadlineMs: this.deps.ms },
      `the budget store did not answer within server.decision_deadline_ms: ${policy} while ` +
        'it is slow, so Envoy never waits past its message_timeout',
    );
  }

  private met(): void {
    if (!this.late) return;

    this.late = false;
    this.deps.logger.info(
      { deadlineMs: this.deps.ms },
      'the budget store answers within server.decision_deadline_ms again',
    );
  }
}
