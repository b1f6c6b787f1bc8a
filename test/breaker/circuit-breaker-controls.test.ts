import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { BreakerTransition } from '../../src/breaker/breaker-events.js';
import type { BreakerSettings } from '../../src/breaker/breaker-settings.js';

import { CircuitBreaker } from '../../src/breaker/circuit-breaker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { base, fakeSetup, acquire, fail, reasons } from './breaker-fixtures.js';

describe('CircuitBreaker', () => {
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
        forced: true,
      });
      assert.equal(breaker.snapshot().reopensInMs, null);
      assert.equal(breaker.snapshot().forcedOpen, true);
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
        forcedOpen: false,
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
