import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { ReloadOutcome, ReloadRequest } from '../../src/config/reload-controller.js';
import { ReloadScheduler } from '../../src/config/reload-scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';

const DEBOUNCE = 200;
const FAILED: ReloadOutcome = { result: 'failure', problems: [{ path: '', message: 'bad' }] };

/** Lets the promise callbacks of a finished reload run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ReloadScheduler', () => {
  let clock: FakeClock;
  let requests: ReloadRequest[];
  let answers: Array<'ok' | 'bad'>;
  let scheduler: ReloadScheduler;

  beforeEach(() => {
    clock = new FakeClock();
    requests = [];
    answers = [];
    scheduler = new ReloadScheduler({
      debounceMs: DEBOUNCE,
      clock,
      reload: async (request) => {
        requests.push(request);
        if ((answers.shift() ?? 'ok') === 'ok') return { result: 'success', version: 'v' };
        return request.deferFailure ? { ...FAILED, result: 'deferred' } : FAILED;
      },
    });
  });

  it('reloads once, after the debounce, for a burst of notices', async () => {
    scheduler.notify();
    clock.advance(150);
    scheduler.notify();
    clock.advance(150);
    scheduler.notify();
    clock.advance(DEBOUNCE - 1);
    assert.equal(requests.length, 0);

    clock.advance(1);
    await settle();

    assert.deepEqual(requests, [{ trigger: 'watch', deferFailure: true }]);
  });

  it('retries a failure right after a change once more, and reports only the retry', async () => {
    answers.push('bad', 'bad');
    scheduler.notify();
    clock.advance(DEBOUNCE);
    await settle();

    clock.advance(DEBOUNCE);
    await settle();
    clock.advance(DEBOUNCE * 10);
    await settle();

    assert.deepEqual(
      requests.map((request) => request.deferFailure),
      [true, false],
    );
  });

  it('applies the file on the retry when the writer finished in between', async () => {
    answers.push('bad', 'ok');
    scheduler.notify();
    clock.advance(DEBOUNCE);
    await settle();

    clock.advance(DEBOUNCE);
    await settle();

    assert.equal(requests.length, 2);
    assert.equal(requests[1]?.deferFailure, false);
  });

  it('starts over, deferring again, when the file changes before the retry', async () => {
    answers.push('bad', 'bad', 'ok');
    scheduler.notify();
    clock.advance(DEBOUNCE);
    await settle();

    clock.advance(DEBOUNCE / 2);
    scheduler.notify();
    clock.advance(DEBOUNCE);
    await settle();
    clock.advance(DEBOUNCE);
    await settle();

    assert.deepEqual(
      requests.map((request) => request.deferFailure),
      [true, true, false],
    );
  });

  it('drops the old retry when a notice arrives while a deferred reload is running', async () => {
    answers.push('bad', 'ok');
    scheduler.notify();
    clock.advance(DEBOUNCE);
    scheduler.notify();
    await settle();

    clock.advance(DEBOUNCE);
    await settle();
    clock.advance(DEBOUNCE * 10);
    await settle();

    assert.deepEqual(
      requests.map((request) => request.deferFailure),
      [true, true],
    );
  });

  it('does nothing after dispose', async () => {
    scheduler.notify();
    scheduler.dispose();
    scheduler.notify();
    clock.advance(DEBOUNCE * 10);
    await settle();

    assert.equal(requests.length, 0);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('refuses a negative debounce', () => {
    assert.throws(
      () => new ReloadScheduler({ debounceMs: -1, reload: async () => FAILED }),
      /debounceMs must be 0 or more/,
    );
  });
});
