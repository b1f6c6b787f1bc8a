import type { Clock, TimerHandle } from '../../src/time/clock.js';

interface PendingTimer {
  dueMs: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when a test calls {@link FakeClock.advance}. Timers
 * fire in due order during the advance, each seeing the clock at its due time.
 */
export class FakeClock implements Clock {
  private monotonic = 0;
  private wall: number;
  private readonly timers: PendingTimer[] = [];

  constructor(wallStart = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.wall = wallStart;
  }

  monotonicMs(): number {
    return this.monotonic;
  }

  wallMs(): number {
    return this.wall;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = {
      dueMs: this.monotonic + Math.max(0, delayMs),
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves both clocks forward by `ms`, firing every timer that falls due. */
  advance(ms: number): void {
    const target = this.monotonic + ms;

    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.moveTo(next.dueMs);
      next.cancelled = true;
      next.callback();
    }

    this.moveTo(target);
  }

  /** Sets the wall clock without moving the monotonic one (a wall-clock jump). */
  setWall(wallMs: number): void {
    this.wall = wallMs;
  }

  /** How many timers are still waiting to fire. */
  pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  private nextDue(limitMs: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const timer of this.timers) {
      if (timer.cancelled || timer.dueMs > limitMs) continue;
      if (!next || timer.dueMs < next.dueMs) next = timer;
    }
    return next;
  }

  private moveTo(monotonicMs: number): void {
    this.wall += monotonicMs - this.monotonic;
    this.monotonic = monotonicMs;
  }
}
