import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import type { ReloadOutcome, ReloadRequest } from './reload-controller.js';

/** What a {@link ReloadScheduler} needs. */
export interface ReloadSchedulerOptions {
  /** Quiet time after the last change before the file is read. */
  readonly debounceMs: number;
  /** Runs one reload; a {@link ReloadController}'s `reload` in production. */
  readonly reload: (request: ReloadRequest) => Promise<ReloadOutcome>;
  /** Told how each watched reload ended (tests and diagnostics). */
  readonly onOutcome?: (outcome: ReloadOutcome) => void;
  readonly clock?: Clock;
}

/**
 * Turns a burst of file-change notices into one reload. Every notice
 * restarts the debounce; when it elapses the file is reloaded with failures
 * deferred, since an editor that truncates and then writes can be caught in
 * between. A deferred failure is retried once after another quiet period and
 * only that second attempt is reported. A notice arriving meanwhile starts
 * over, so only the file's final state counts.
 */
export class ReloadScheduler {
  private readonly clock: Clock;
  private timer: TimerHandle | null = null;
  private generation = 0;
  private disposed = false;

  constructor(private readonly options: ReloadSchedulerOptions) {
    if (!(options.debounceMs >= 0)) {
      throw new RangeError(`debounceMs must be 0 or more, got ${options.debounceMs}`);
    }
    this.clock = options.clock ?? systemClock;
  }

  /** The file (or its directory entry) changed: reload once changes stop. */
  notify(): void {
    if (this.disposed) return;

    this.generation += 1;
    this.schedule(this.generation, true);
  }

  /** Cancels a pending reload; later notices are ignored. A running reload finishes. */
  dispose(): void {
    this.disposed = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(generation: number, first: boolean): void {
    this.timer?.cancel();
    this.timer = this.clock.schedule(this.options.debounceMs, () => {
      this.timer = null;
      void this.run(generation, first);
    });
  }

  private async run(generation: number, first: boolean): Promise<void> {
    const outcome = await this.options.reload({ trigger: 'watch', deferFailure: first });
    this.options.onOutcome?.(outcome);

    // A newer notice has its own timer, and its reload will read the newer file.
    const superseded = generation !== this.generation;
    if (outcome.result === 'deferred' && !superseded && !this.disposed) {
      this.schedule(generation, false);
    }
  }
}
