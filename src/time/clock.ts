/** A scheduled callback that can be cancelled before it fires. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The time source every policy reads. Production code uses {@link systemClock};
 * tests pass a fake clock so that timeouts and periods can be stepped through
 * without waiting.
 */
export interface Clock {
  /** Monotonic milliseconds, for durations. Never goes backwards. */
  monotonicMs(): number;

  /** Wall-clock milliseconds since the Unix epoch, for calendar periods. */
  wallMs(): number;

  /**
   * Runs `callback` once after `delayMs` monotonic milliseconds. The timer does
   * not keep the process alive.
   */
  schedule(delayMs: number, callback: () => void): TimerHandle;
}

/** The real clock: `performance.now()` for durations, `Date.now()` for dates. */
export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
