import assert from 'node:assert/strict';

import {
  BreakerEvents,
  type BreakerRejection,
  type BreakerTransition,
} from '../../src/breaker/breaker-events.js';
import {
  defaultBreakerSettings,
  type BreakerSettings,
} from '../../src/breaker/breaker-settings.js';
import { CircuitBreaker, type BreakerPermit } from '../../src/breaker/circuit-breaker.js';
import type { Clock, TimerHandle } from '../../src/time/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** Settings the breaker tests start from. */
export const base: BreakerSettings = {
  ...defaultBreakerSettings,
  failureThreshold: 3,
  successThreshold: 2,
  timeoutSeconds: 30,
  halfOpenMaxRequests: 1,
};

/** A breaker on `clock` with every event it emits collected. */
export function setup(overrides: Partial<BreakerSettings> = {}, clock: Clock = new FakeClock()) {
  const events = new BreakerEvents();
  const transitions: BreakerTransition[] = [];
  const rejections: BreakerRejection[] = [];
  events.onTransition((event) => transitions.push(event));
  events.onRejection((event) => rejections.push(event));

  const breaker = new CircuitBreaker('llm', { ...base, ...overrides }, clock, events);
  return { breaker, events, transitions, rejections };
}

/** {@link setup} on a new FakeClock, returned with it. */
export function fakeSetup(overrides: Partial<BreakerSettings> = {}) {
  const clock = new FakeClock();
  return { clock, ...setup(overrides, clock) };
}

/** Acquires a permit, failing the test if the breaker rejects. */
export function acquire(breaker: CircuitBreaker): BreakerPermit {
  const admission = breaker.tryAcquire();
  assert.equal(admission.admitted, true, `expected admission, state ${breaker.state().kind}`);
  return admission.permit;
}

/** Records `times` failures, each through its own permit. */
export function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i += 1) acquire(breaker).recordFailure();
}

/** Transitions as `from>to:reason` strings, for compact assertions. */
export function reasons(transitions: BreakerTransition[]): string[] {
  return transitions.map((event) => `${event.from}>${event.to}:${event.reason}`);
}

/** Reads time from a FakeClock but only fires timers when the test says so. */
export class ManualTimerClock implements Clock {
  readonly time = new FakeClock();
  readonly callbacks: (() => void)[] = [];

  monotonicMs(): number {
    return this.time.monotonicMs();
  }

  wallMs(): number {
    return this.time.wallMs();
  }

  schedule(_delayMs: number, callback: () => void): TimerHandle {
    this.callbacks.push(callback);
    return { cancel: () => undefined };
  }
}
