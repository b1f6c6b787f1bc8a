import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { BreakerSettings } from '../../src/breaker/breaker-settings.js';

import {
  base,
  setup,
  fakeSetup,
  acquire,
  fail,
  reasons,
  ManualTimerClock,
} from './breaker-fixtures.js';

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
          forced: false,
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

      assert.deepEqual(admission, {
        admitted: false,
        state: 'half_open',
        retryAfterSeconds: 1,
        forced: false,
      });
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
        forced: false,
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
});
