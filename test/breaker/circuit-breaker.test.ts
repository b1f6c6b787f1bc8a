import { describe, it } from 'node:test';
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

const base: BreakerSettings = {
  ...defaultBreakerSettings,
  failureThreshold: 3,
  successThreshold: 2,
  timeoutSeconds: 30,
  halfOpenMaxRequests: 1,
};

function setup(overrides: Partial<BreakerSettings> = {}, clock: Clock = new FakeClock()) {
  const events = new BreakerEvents();
  const transitions: BreakerTransition[] = [];
  const rejections: BreakerRejection[] = [];
  events.onTransition((event) => transitions.push(event));
  events.onRejection((event) => rejections.push(event));

  const breaker = new CircuitBreaker('llm', { ...base, ...overrides }, clock, events);
  return { breaker, events, transitions, rejections };
}

function fakeSetup(overrides: Partial<BreakerSettings> = {}) {
  const clock = new FakeClock();
  return { clock, ...setup(overrides, clock) };
}

function acquire(breaker: CircuitBreaker): BreakerPermit {
  const admission = breaker.tryAcquire();
  assert.equal(admission.admitted, true, `expected admission, state ${breaker.state().kind}`);
  return admission.permit;
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i += 1) acquire(breaker).recordFailure();
}

function reasons(transitions: BreakerTransition[]): string[] {
  return transitions.map((event) => `${event.from}>${event.to}:${event.reason}`);
}

/** Reads time from a FakeClock but only fires timers when the test says so. */
class ManualTimerClock implements Clock {
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

describe('CircuitBreaker', () => {
  describe('closed', () => {
    it('admits requests when closed', () => {
      const { breaker } = fakeSetup();

      for (let i = 0; i < 10; i += 1) acquire(breaker).recordSuccess();

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 0 });
    });

    for (const threshold of [1, 3, 5]) {
      it(`opens when ${threshold} consecutive failures reach the threshold`, () => {
        const { breaker, clock, transitions } = fakeSetup({ failureThreshold: threshold });

        fail(breaker, threshold - 1);
        assert.equal(breaker.state().kind, 'closed');
        fail(breaker, 1);

        assert.deepEqual(breaker.state(), {
          kind: 'open',
          openedAtMs: clock.monotonicMs(),
          reopensAtMs: clock.monotonicMs() + 30_000,
        });
        assert.deepEqual(reasons(transitions), ['closed>open:failure_threshold']);
      });
    }

    it('resets the failure count when a success arrives', () => {
      const { breaker } = fakeSetup();

      fail(breaker, 2);
      acquire(breaker).recordSuccess();
      fail(breaker, 2);

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 2 });
    });

    it('counts nothing when a permit is released', () => {
      const { breaker } = fakeSetup();

      fail(breaker, 2);
      acquire(breaker).release();

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 2 });
    });

    const statuses = [
      { status: 200, matcher: 'default', failure: false },
      { status: 404, matcher: 'default', failure: false },
      { status: 499, matcher: 'default', failure: false },
      { status: 500, matcher: 'default', failure: true },
      { status: 503, matcher: 'default', failure: true },
      { status: 429, matcher: '429 only', failure: true },
      { status: 503, matcher: '429 only', failure: false },
    ];
    for (const { status, matcher, failure } of statuses) {
      it(`counts ${status} as ${failure ? 'a failure' : 'a success'} with ${matcher}`, () => {
        const isFailureStatus =
          matcher === 'default' ? base.isFailureStatus : (code: number) => code === 429;
        const { breaker } = fakeSetup({ isFailureStatus });

        fail(breaker, 1);
        acquire(breaker).recordOutcome(status);

        const expected = failure ? 2 : 0;
        assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: expected });
      });
    }

    it('classifies statuses with the settings current when the outcome arrives', () => {
      const { breaker } = fakeSetup();
      const permit = acquire(breaker);

      breaker.updateSettings({ ...base, isFailureStatus: (code) => code === 429 });
      permit.recordOutcome(429);

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 1 });
    });
  });

  describe('open', () => {
    it('rejects every request and emits a rejection when open', () => {
      const { breaker, rejections } = fakeSetup();
      fail(breaker, 3);

      for (let i = 0; i < 5; i += 1) {
        assert.deepEqual(breaker.tryAcquire(), {
          admitted: false,
          state: 'open',
          retryAfterSeconds: 30,
        });
      }

      assert.equal(rejections.length, 5);
      assert.deepEqual(rejections[0], { breaker: 'llm', state: 'open', retryAfterSeconds: 30 });
    });

    const retryAfter = [
      { timeoutSeconds: 30, elapsedMs: 0, expected: 30 },
      { timeoutSeconds: 30, elapsedMs: 1, expected: 30 },
      { timeoutSeconds: 30, elapsedMs: 999, expected: 30 },
      { timeoutSeconds: 30, elapsedMs: 1_000, expected: 29 },
      { timeoutSeconds: 30, elapsedMs: 28_999, expected: 2 },
      { timeoutSeconds: 30, elapsedMs: 29_000, expected: 1 },
      { timeoutSeconds: 30, elapsedMs: 29_999, expected: 1 },
      { timeoutSeconds: 0.2, elapsedMs: 0, expected: 1 },
      { timeoutSeconds: 1.5, elapsedMs: 0, expected: 2 },
    ];
    for (const { timeoutSeconds, elapsedMs, expected } of retryAfter) {
      it(`answers retry-after ${expected} after ${elapsedMs} ms of ${timeoutSeconds} s`, () => {
        const { breaker, clock } = fakeSetup({ timeoutSeconds });
        fail(breaker, 3);

        clock.advance(elapsedMs);
        const admission = breaker.tryAcquire();

        assert.equal(admission.admitted, false);
        assert.equal(admission.retryAfterSeconds, expected);
      });
    }

    it('turns half-open by timer without any request, with exactly one event', () => {
      const { breaker, clock, transitions } = fakeSetup();
      fail(breaker, 3);
      assert.equal(clock.pendingTimers(), 1);

      clock.advance(29_999);
      assert.equal(transitions.length, 1);
      clock.advance(1);

      assert.deepEqual(reasons(transitions), [
        'closed>open:failure_threshold',
        'open>half_open:timeout_elapsed',
      ]);
      assert.equal(clock.pendingTimers(), 0);
      assert.deepEqual(breaker.state(), {
        kind: 'half_open',
        trialsInFlight: 0,
        consecutiveSuccesses: 0,
      });
      assert.equal(transitions.length, 2);
    });

    it('stamps the timer transition with the wall time it fired at', () => {
      const { breaker, clock, transitions } = fakeSetup();
      fail(breaker, 3);
      const openedAt = clock.wallMs();

      clock.advance(45_000);

      assert.equal(transitions[1]?.atWallMs, openedAt + 30_000);
      assert.equal(breaker.snapshot().lastTransitionWallMs, openedAt + 30_000);
    });

    for (const read of ['state', 'tryAcquire', 'snapshot'] as const) {
      it(`turns half-open on ${read}() when the timer has not fired yet`, () => {
        const clock = new ManualTimerClock();
        const { breaker, transitions } = setup({}, clock);
        fail(breaker, 3);

        clock.time.advance(30_000);
        if (read === 'state') assert.equal(breaker.state().kind, 'half_open');
        if (read === 'tryAcquire') assert.equal(breaker.tryAcquire().admitted, true);
        if (read === 'snapshot') assert.equal(breaker.snapshot().state, 'half_open');

        assert.deepEqual(reasons(transitions).slice(1), ['open>half_open:timeout_elapsed']);
      });
    }

    it('emits no second event when a due timer fires after a lazy transition', () => {
      const clock = new ManualTimerClock();
      const { breaker, transitions } = setup({}, clock);
      fail(breaker, 3);

      clock.time.advance(30_000);
      breaker.state();
      for (const callback of clock.callbacks) callback();

      assert.equal(transitions.length, 2);
      assert.equal(breaker.state().kind, 'half_open');
    });

    it('measures the open timeout on the monotonic clock, not the wall clock', () => {
      const { breaker, clock } = fakeSetup();
      fail(breaker, 3);

      clock.setWall(clock.wallMs() + 3_600_000);
      assert.equal(breaker.state().kind, 'open');
      clock.setWall(clock.wallMs() - 7_200_000);
      clock.advance(30_000);

      assert.equal(breaker.state().kind, 'half_open');
    });
  });

  describe('half_open', () => {
    function halfOpen(overrides: Partial<BreakerSettings> = {}) {
      const context = fakeSetup(overrides);
      fail(context.breaker, context.breaker.snapshot().settings.failureThreshold);
      context.clock.advance(context.breaker.snapshot().settings.timeoutSeconds * 1000);
      assert.equal(context.breaker.state().kind, 'half_open');
      return context;
    }

    for (const halfOpenMaxRequests of [1, 3, 7]) {
      it(`admits exactly ${halfOpenMaxRequests} of 100 requests made in one tick`, () => {
        const { breaker } = halfOpen({ halfOpenMaxRequests });

        const admissions = Array.from({ length: 100 }, () => breaker.tryAcquire());

        const admitted = admissions.filter((admission) => admission.admitted);
        assert.equal(admitted.length, halfOpenMaxRequests);
        assert.equal(breaker.snapshot().trialsInFlight, halfOpenMaxRequests);
      });
    }

    it('rejects with half_open and retry-after 1 when every trial slot is taken', () => {
      const { breaker, rejections } = halfOpen({ halfOpenMaxRequests: 2 });
      acquire(breaker);
      acquire(breaker);

      const admission = breaker.tryAcquire();

      assert.deepEqual(admission, { admitted: false, state: 'half_open', retryAfterSeconds: 1 });
      assert.deepEqual(rejections.at(-1), {
        breaker: 'llm',
        state: 'half_open',
        retryAfterSeconds: 1,
      });
    });

    it('closes with zero counters after successThreshold consecutive successes', () => {
      const { breaker, transitions } = halfOpen({ successThreshold: 3 });

      acquire(breaker).recordSuccess();
      acquire(breaker).recordSuccess();
      assert.deepEqual(breaker.state(), {
        kind: 'half_open',
        trialsInFlight: 0,
        consecutiveSuccesses: 2,
      });
      acquire(breaker).recordOutcome(204);

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 0 });
      assert.deepEqual(reasons(transitions).at(-1), 'half_open>closed:success_threshold');
    });

    it('reopens and restarts the timer when a trial fails', () => {
      const { breaker, clock, transitions } = halfOpen({ halfOpenMaxRequests: 2 });
      acquire(breaker).recordSuccess();
      clock.advance(5_000);

      acquire(breaker).recordOutcome(502);

      const now = clock.monotonicMs();
      assert.deepEqual(breaker.state(), {
        kind: 'open',
        openedAtMs: now,
        reopensAtMs: now + 30_000,
      });
      assert.equal(reasons(transitions).at(-1), 'half_open>open:trial_failed');
      assert.deepEqual(breaker.tryAcquire(), {
        admitted: false,
        state: 'open',
        retryAfterSeconds: 30,
      });
      clock.advance(30_000);
      assert.equal(breaker.state().kind, 'half_open');
    });

    it('gives the slot back when a trial is released', () => {
      const { breaker } = halfOpen();
      const trial = acquire(breaker);
      assert.equal(breaker.tryAcquire().admitted, false);

      trial.release();

      assert.deepEqual(breaker.state(), {
        kind: 'half_open',
        trialsInFlight: 0,
        consecutiveSuccesses: 0,
      });
      assert.equal(breaker.tryAcquire().admitted, true);
    });

    it('keeps earlier trial successes when a later trial is released', () => {
      const { breaker } = halfOpen({ successThreshold: 2 });

      acquire(breaker).recordSuccess();
      acquire(breaker).release();
      acquire(breaker).recordSuccess();

      assert.equal(breaker.state().kind, 'closed');
    });

    it('counts a trial as a failure when it is not settled within timeoutSeconds', () => {
      const { breaker, clock, transitions } = halfOpen();
      const hung = acquire(breaker);

      clock.advance(29_999);
      assert.equal(breaker.state().kind, 'half_open');
      clock.advance(1);

      assert.equal(breaker.state().kind, 'open');
      assert.equal(reasons(transitions).at(-1), 'half_open>open:trial_failed');
      assert.equal(breaker.snapshot().totals.failures, 4);

      hung.recordSuccess();
      assert.equal(breaker.state().kind, 'open');
      assert.equal(breaker.snapshot().totals.successes, 0);
    });

    it('cancels the hang timer when a trial settles', () => {
      const { breaker, clock } = halfOpen({ halfOpenMaxRequests: 2, successThreshold: 3 });
      const first = acquire(breaker);
      const second = acquire(breaker);
      assert.equal(clock.pendingTimers(), 2);

      first.recordSuccess();
      second.release();

      assert.equal(clock.pendingTimers(), 0);
      clock.advance(60_000);
      assert.equal(breaker.state().kind, 'half_open');
    });

    it('cancels the hang timers of the other trials when it leaves half-open', () => {
      const { breaker, clock, transitions } = halfOpen({ halfOpenMaxRequests: 3 });
      acquire(breaker);
      acquire(breaker);
      acquire(breaker).recordFailure();

      assert.equal(clock.pendingTimers(), 1, 'only the reopen timer remains');
      clock.advance(29_999);
      assert.equal(transitions.length, 3);
    });
  });

  describe('permits', () => {
    it('settles at most once', () => {
      const { breaker } = fakeSetup();
      const permit = acquire(breaker);

      permit.recordFailure();
      permit.recordFailure();
      permit.recordSuccess();
      permit.release();
      permit.recordOutcome(500);

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 1 });
      const { totals } = breaker.snapshot();
      assert.deepEqual(totals, {
        admitted: 1,
        rejected: 0,
        successes: 0,
        failures: 1,
        released: 0,
      });
    });

    it('ignores a failure admitted while closed that arrives after the breaker opened', () => {
      const { breaker, clock, transitions } = fakeSetup();
      const slow = acquire(breaker);
      fail(breaker, 3);

      clock.advance(20_000);
      slow.recordOutcome(503);

      assert.equal(breaker.snapshot().reopensInMs, 10_000);
      clock.advance(10_000);
      assert.equal(breaker.state().kind, 'half_open');
      assert.equal(transitions.length, 2);
    });

    it('ignores a success admitted while closed that arrives while half-open', () => {
      const { breaker, clock } = fakeSetup({ successThreshold: 1 });
      const slow = acquire(breaker);
      fail(breaker, 3);
      clock.advance(30_000);

      slow.recordSuccess();

      assert.deepEqual(breaker.state(), {
        kind: 'half_open',
        trialsInFlight: 0,
        consecutiveSuccesses: 0,
      });
    });

    it('ignores a failure admitted while closed that arrives while half-open', () => {
      const { breaker, clock } = fakeSetup();
      const slow = acquire(breaker);
      fail(breaker, 3);
      clock.advance(30_000);

      slow.recordFailure();

      assert.equal(breaker.state().kind, 'half_open');
    });

    it('frees no slot when a trial from an earlier half-open period is released', () => {
      const { breaker, clock } = fakeSetup({ halfOpenMaxRequests: 2 });
      fail(breaker, 3);
      clock.advance(30_000);
      const stale = acquire(breaker);
      acquire(breaker).recordFailure();
      clock.advance(30_000);

      acquire(breaker);
      acquire(breaker);
      stale.release();

      assert.equal(breaker.snapshot().trialsInFlight, 2);
      assert.equal(breaker.tryAcquire().admitted, false);
    });

    it('counts stale outcomes in totals though they move no state', () => {
      const { breaker } = fakeSetup();
      const slow = acquire(breaker);
      fail(breaker, 3);

      slow.recordSuccess();
      breaker.tryAcquire();

      assert.deepEqual(breaker.snapshot().totals, {
        admitted: 4,
        rejected: 1,
        successes: 1,
        failures: 3,
        released: 0,
      });
    });
  });

  describe('events', () => {
    it('emits one event per transition through a full cycle', () => {
      const { breaker, clock, transitions } = fakeSetup();
      const start = clock.wallMs();

      fail(breaker, 3);
      breaker.state();
      clock.advance(30_000);
      breaker.state();
      acquire(breaker).recordSuccess();
      acquire(breaker).recordSuccess();
      breaker.state();

      assert.deepEqual(transitions, [
        {
          breaker: 'llm',
          from: 'closed',
          to: 'open',
          reason: 'failure_threshold',
          atWallMs: start,
        },
        {
          breaker: 'llm',
          from: 'open',
          to: 'half_open',
          reason: 'timeout_elapsed',
          atWallMs: start + 30_000,
        },
        {
          breaker: 'llm',
          from: 'half_open',
          to: 'closed',
          reason: 'success_threshold',
          atWallMs: start + 30_000,
        },
      ]);
    });

    it('keeps working when a listener throws', () => {
      const { breaker, clock, events, transitions, rejections } = fakeSetup();
      events.onTransition(() => {
        throw new Error('listener bug');
      });
      events.onRejection(() => {
        throw new Error('listener bug');
      });
      const late: BreakerTransition[] = [];
      events.onTransition((event) => late.push(event));

      fail(breaker, 3);
      const rejected = breaker.tryAcquire();
      clock.advance(30_000);

      assert.equal(rejected.admitted, false);
      assert.equal(breaker.state().kind, 'half_open');
      assert.equal(transitions.length, 2);
      assert.equal(late.length, 2);
      assert.equal(rejections.length, 1);
    });

    it('stops delivering to a listener after it unsubscribes', () => {
      const { breaker, events } = fakeSetup();
      const seen: string[] = [];
      const unsubscribe = events.onTransition((event) => seen.push(event.reason));
      const unsubscribeRejections = events.onRejection(() => seen.push('rejected'));

      fail(breaker, 3);
      unsubscribe();
      unsubscribe();
      unsubscribeRejections();
      breaker.tryAcquire();
      breaker.reset();

      assert.deepEqual(seen, ['failure_threshold']);
    });

    it('delivers to each subscription when one function subscribes twice', () => {
      const { breaker, events } = fakeSetup();
      let calls = 0;
      const listener = () => (calls += 1);
      const first = events.onTransition(listener);
      events.onTransition(listener);

      first();
      breaker.forceOpen();

      assert.equal(calls, 1);
    });

    it('shows listeners the state after the transition', () => {
      const { breaker, events } = fakeSetup();
      const seen: string[] = [];
      events.onTransition(() => seen.push(breaker.state().kind));

      fail(breaker, 3);

      assert.deepEqual(seen, ['open']);
    });
  });

  describe('forceOpen and reset', () => {
    it('stays open past the timeout when forced open, until reset', () => {
      const { breaker, clock, transitions } = fakeSetup();

      assert.equal(breaker.forceOpen(), true);
      clock.advance(3_600_000);

      assert.deepEqual(breaker.state(), {
        kind: 'open',
        openedAtMs: 0,
        reopensAtMs: null,
      });
      assert.deepEqual(breaker.tryAcquire(), {
        admitted: false,
        state: 'open',
        retryAfterSeconds: 30,
      });
      assert.equal(breaker.snapshot().reopensInMs, null);
      assert.equal(clock.pendingTimers(), 0);

      assert.equal(breaker.reset(), true);
      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 0 });
      assert.deepEqual(reasons(transitions), [
        'closed>open:forced_open',
        'open>closed:manual_reset',
      ]);
    });

    for (const { timeoutSeconds, expected } of [
      { timeoutSeconds: 0.5, expected: 1 },
      { timeoutSeconds: 2.5, expected: 3 },
      { timeoutSeconds: 60, expected: 60 },
    ]) {
      it(`answers retry-after ${expected} when forced open with ${timeoutSeconds} s`, () => {
        const { breaker } = fakeSetup({ timeoutSeconds });
        breaker.forceOpen();

        const admission = breaker.tryAcquire();

        assert.equal(admission.admitted, false);
        assert.equal(admission.retryAfterSeconds, expected);
      });
    }

    it('cancels the reopen timer when an open breaker is forced open', () => {
      const { breaker, clock, transitions } = fakeSetup();
      fail(breaker, 3);

      breaker.forceOpen();
      clock.advance(60_000);

      assert.equal(breaker.state().kind, 'open');
      assert.deepEqual(reasons(transitions).at(-1), 'open>open:forced_open');
      assert.equal(clock.pendingTimers(), 0);
    });

    it('emits nothing when forced open twice', () => {
      const { breaker, transitions } = fakeSetup();

      breaker.forceOpen();

      assert.equal(breaker.forceOpen(), false);
      assert.equal(transitions.length, 1);
    });

    const resets = [
      { from: 'open', prepare: (b: CircuitBreaker) => fail(b, 3), expected: 'open>closed' },
      {
        from: 'closed with failures',
        prepare: (b: CircuitBreaker) => fail(b, 2),
        expected: 'closed>closed',
      },
      {
        from: 'half_open',
        prepare: (b: CircuitBreaker, clock: FakeClock) => {
          fail(b, 3);
          clock.advance(30_000);
          acquire(b);
        },
        expected: 'half_open>closed',
      },
    ];
    for (const { from, prepare, expected } of resets) {
      it(`closes with zero counters and one event when reset from ${from}`, () => {
        const { breaker, clock, transitions } = fakeSetup();
        prepare(breaker, clock);
        const before = transitions.length;

        assert.equal(breaker.reset(), true);

        assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 0 });
        assert.deepEqual(reasons(transitions.slice(before)), [`${expected}:manual_reset`]);
        assert.equal(clock.pendingTimers(), 0);
      });
    }

    it('emits nothing when reset while closed with no failures', () => {
      const { breaker, transitions } = fakeSetup();
      acquire(breaker).recordSuccess();

      assert.equal(breaker.reset(), false);
      assert.equal(transitions.length, 0);
      assert.equal(breaker.snapshot().lastTransitionWallMs, null);
    });

    it('ignores outcomes admitted before a reset', () => {
      const { breaker } = fakeSetup();
      fail(breaker, 2);
      const slow = acquire(breaker);

      breaker.reset();
      slow.recordFailure();

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 0 });
    });
  });

  describe('updateSettings', () => {
    it('waits for the next failure when the count already reaches a lowered threshold', () => {
      const { breaker, transitions } = fakeSetup({ failureThreshold: 5 });
      fail(breaker, 3);

      breaker.updateSettings({ ...base, failureThreshold: 2 });
      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 3 });
      assert.equal(transitions.length, 0);
      fail(breaker, 1);

      assert.equal(breaker.state().kind, 'open');
    });

    it('applies a raised failure threshold to the count already reached', () => {
      const { breaker } = fakeSetup({ failureThreshold: 3 });
      fail(breaker, 2);

      breaker.updateSettings({ ...base, failureThreshold: 4 });
      fail(breaker, 1);

      assert.deepEqual(breaker.state(), { kind: 'closed', consecutiveFailures: 3 });
    });

    it('keeps the state and the running open timer', () => {
      const { breaker, clock } = fakeSetup();
      fail(breaker, 3);
      clock.advance(10_000);

      breaker.updateSettings({ ...base, timeoutSeconds: 120 });

      assert.equal(breaker.snapshot().reopensInMs, 20_000);
      clock.advance(20_000);
      assert.equal(breaker.state().kind, 'half_open');
    });

    it('uses the new timeout for the next open period', () => {
      const { breaker, clock } = fakeSetup();
      breaker.updateSettings({ ...base, timeoutSeconds: 5 });

      fail(breaker, 3);

      assert.equal(breaker.snapshot().reopensInMs, 5_000);
      clock.advance(5_000);
      assert.equal(breaker.state().kind, 'half_open');
    });

    it('admits more trials when halfOpenMaxRequests is raised while half-open', () => {
      const { breaker, clock } = fakeSetup();
      fail(breaker, 3);
      clock.advance(30_000);
      acquire(breaker);
      assert.equal(breaker.tryAcquire().admitted, false);

      breaker.updateSettings({ ...base, halfOpenMaxRequests: 3 });

      assert.equal(breaker.tryAcquire().admitted, true);
      assert.equal(breaker.tryAcquire().admitted, true);
      assert.equal(breaker.tryAcquire().admitted, false);
    });

    const invalid: [string, Partial<BreakerSettings>][] = [
      ['failureThreshold', { failureThreshold: 0 }],
      ['successThreshold', { successThreshold: 1.5 }],
      ['halfOpenMaxRequests', { halfOpenMaxRequests: -1 }],
      ['timeoutSeconds', { timeoutSeconds: 0 }],
      ['timeoutSeconds', { timeoutSeconds: Number.POSITIVE_INFINITY }],
      ['timeoutSeconds', { timeoutSeconds: Number.NaN }],
    ];
    for (const [name, overrides] of invalid) {
      it(`throws a RangeError naming ${name} when it is ${Object.values(overrides)[0]}`, () => {
        const { breaker } = fakeSetup();
        const settings = { ...base, ...overrides };
        const pattern = new RegExp(`breaker "llm" ${name}`);

        assert.throws(() => breaker.updateSettings(settings), { name: 'RangeError' });
        assert.throws(() => breaker.updateSettings(settings), pattern);
        assert.throws(() => new CircuitBreaker('llm', settings, new FakeClock()), pattern);
        assert.equal(breaker.snapshot().settings.failureThreshold, 3);
      });
    }
  });

  describe('snapshot', () => {
    it('reports counters, settings and totals while half-open', () => {
      const { breaker, clock } = fakeSetup({ halfOpenMaxRequests: 3, successThreshold: 3 });
      fail(breaker, 3);
      breaker.tryAcquire();
      clock.advance(30_000);
      acquire(breaker).recordSuccess();
      acquire(breaker);
      acquire(breaker).release();

      assert.deepEqual(breaker.snapshot(), {
        name: 'llm',
        state: 'half_open',
        consecutiveFailures: 0,
        consecutiveSuccesses: 1,
        trialsInFlight: 1,
        lastTransitionWallMs: clock.wallMs(),
        reopensInMs: null,
        settings: {
          failureThreshold: 3,
          successThreshold: 3,
          timeoutSeconds: 30,
          halfOpenMaxRequests: 3,
        },
        totals: { admitted: 6, rejected: 1, successes: 1, failures: 3, released: 1 },
      });
    });

    it('reports failures while closed and the time left while open', () => {
      const { breaker, clock } = fakeSetup();
      fail(breaker, 2);
      assert.equal(breaker.snapshot().consecutiveFailures, 2);
      assert.equal(breaker.snapshot().reopensInMs, null);

      fail(breaker, 1);
      clock.advance(12_345);

      assert.equal(breaker.snapshot().state, 'open');
      assert.equal(breaker.snapshot().consecutiveFailures, 0);
      assert.equal(breaker.snapshot().reopensInMs, 17_655);
    });
  });

  describe('dispose', () => {
    it('cancels the reopen timer', () => {
      const { breaker, clock, transitions } = fakeSetup();
      fail(breaker, 3);

      breaker.dispose();
      clock.advance(30_000);

      assert.equal(clock.pendingTimers(), 0);
      assert.equal(transitions.length, 1);
    });

    it('cancels trial timers and ignores later outcomes', () => {
      const { breaker, clock } = fakeSetup({ halfOpenMaxRequests: 2 });
      fail(breaker, 3);
      clock.advance(30_000);
      const trial = acquire(breaker);

      breaker.dispose();
      trial.recordFailure();

      assert.equal(clock.pendingTimers(), 0);
      assert.equal(breaker.state().kind, 'half_open');
    });
  });
});
