import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { BreakerEvents, type BreakerTransition } from '../../src/breaker/breaker-events.js';
import { BreakerSet } from '../../src/breaker/breaker-set.js';
import {
  defaultBreakerSettings,
  type BreakerSettings,
} from '../../src/breaker/breaker-settings.js';
import type { Admission, CircuitBreaker } from '../../src/breaker/circuit-breaker.js';
import { FakeClock } from '../helpers/fake-clock.js';

const defaults: BreakerSettings = { ...defaultBreakerSettings, failureThreshold: 2 };
const strict: BreakerSettings = { ...defaultBreakerSettings, failureThreshold: 1 };
const lenient: BreakerSettings = { ...defaultBreakerSettings, failureThreshold: 10 };

function makeSet(perUpstream: [string, BreakerSettings][] = [], maxDynamic = 2) {
  const clock = new FakeClock();
  const set = new BreakerSet({ defaults, perUpstream: new Map(perUpstream), maxDynamic, clock });
  return { clock, set };
}

function trip(breaker: CircuitBreaker | undefined): void {
  assert.ok(breaker);
  const threshold = breaker.snapshot().settings.failureThreshold;

  for (let i = 0; i < threshold; i += 1) {
    const admission: Admission = breaker.tryAcquire();
    assert.equal(admission.admitted, true);
    admission.permit.recordFailure();
  }
}

function names(set: BreakerSet): string[] {
  return set.list().map((breaker) => breaker.name);
}

describe('BreakerSet', () => {
  it('creates configured breakers up front with their own settings', () => {
    const { set } = makeSet([['openai', strict]]);

    const breaker = set.find('openai');

    assert.ok(breaker);
    assert.equal(breaker.snapshot().settings.failureThreshold, 1);
    assert.equal(set.get('openai'), breaker);
  });

  it('creates a breaker from the defaults when an unconfigured upstream is first asked for', () => {
    const { set } = makeSet();
    assert.equal(set.find('llama'), undefined);

    const breaker = set.get('llama');

    assert.ok(breaker);
    assert.equal(breaker.name, 'llama');
    assert.equal(breaker.snapshot().settings.failureThreshold, 2);
    assert.equal(set.get('llama'), breaker);
    assert.equal(set.find('llama'), breaker);
  });

  it('never creates a breaker on find', () => {
    const { set } = makeSet();

    set.find('llama');

    assert.deepEqual(set.list(), []);
  });

  const caps = [
    { maxDynamic: 0, configured: 1, asked: 3, created: 0 },
    { maxDynamic: 2, configured: 0, asked: 5, created: 2 },
    { maxDynamic: 2, configured: 3, asked: 5, created: 2 },
  ];
  for (const { maxDynamic, configured, asked, created } of caps) {
    it(`creates ${created} of ${asked} new breakers when maxDynamic is ${maxDynamic}`, () => {
      const perUpstream = Array.from({ length: configured }, (_, i): [string, BreakerSettings] => [
        `configured-${i}`,
        strict,
      ]);
      const { set } = makeSet(perUpstream, maxDynamic);

      const got = Array.from({ length: asked }, (_, i) => set.get(`dynamic-${i}`));

      assert.equal(got.filter((breaker) => breaker !== undefined).length, created);
      assert.equal(got.at(-1), undefined);
      assert.equal(set.list().length, configured + created);
      for (let i = 0; i < configured; i += 1) assert.ok(set.get(`configured-${i}`));
    });
  }

  it('keeps returning existing dynamic breakers once the cap is reached', () => {
    const { set } = makeSet([], 1);
    const first = set.get('a');

    assert.equal(set.get('b'), undefined);
    assert.equal(set.get('a'), first);
  });

  it('lists every breaker sorted by name', () => {
    const { set } = makeSet([['zeta', strict]]);
    set.get('beta');
    set.get('alpha');

    assert.deepEqual(names(set), ['alpha', 'beta', 'zeta']);
  });

  it('reports every breaker on one shared event hub', () => {
    const events = new BreakerEvents();
    const seen: BreakerTransition[] = [];
    events.onTransition((event) => seen.push(event));
    const set = new BreakerSet({
      defaults,
      perUpstream: new Map([['openai', strict]]),
      maxDynamic: 1,
      clock: new FakeClock(),
      events,
    });

    trip(set.get('openai'));
    trip(set.get('llama'));

    assert.equal(set.events, events);
    assert.deepEqual(
      seen.map((event) => event.breaker),
      ['openai', 'llama'],
    );
  });

  describe('reconfigure', () => {
    it('keeps the state of breakers that stay configured and applies their new settings', () => {
      const { set } = makeSet([['openai', strict]]);
      const before = set.find('openai');
      trip(before);

      set.reconfigure(defaults, new Map([['openai', lenient]]), 2);

      const after = set.find('openai');
      assert.equal(after, before);
      assert.equal(after?.state().kind, 'open');
      assert.equal(after?.snapshot().settings.failureThreshold, 10);
    });

    it('disposes and drops breakers that are no longer configured', () => {
      const { set, clock } = makeSet([
        ['openai', strict],
        ['anthropic', strict],
      ]);
      const dropped = set.find('anthropic');
      trip(dropped);
      assert.equal(clock.pendingTimers(), 1);

      set.reconfigure(defaults, new Map([['openai', strict]]), 2);

      assert.equal(set.find('anthropic'), undefined);
      assert.deepEqual(names(set), ['openai']);
      assert.equal(clock.pendingTimers(), 0);
    });

    it('makes a fresh dynamic breaker for a dropped name when it is asked for again', () => {
      const { set } = makeSet([['anthropic', strict]]);
      trip(set.find('anthropic'));
      set.reconfigure(defaults, new Map(), 2);

      const fresh = set.get('anthropic');

      assert.equal(fresh?.state().kind, 'closed');
      assert.equal(fresh?.snapshot().settings.failureThreshold, 2);
    });

    it('applies new defaults to dynamic breakers and keeps their state', () => {
      const { set } = makeSet();
      const llama = set.get('llama');
      trip(llama);

      set.reconfigure(lenient, new Map(), 2);

      assert.equal(set.find('llama'), llama);
      assert.equal(llama?.state().kind, 'open');
      assert.equal(llama?.snapshot().settings.failureThreshold, 10);
      assert.equal(set.get('mistral')?.snapshot().settings.failureThreshold, 10);
    });

    it('turns a dynamic breaker into a configured one, keeping state and freeing its slot', () => {
      const { set } = makeSet([], 1);
      const llama = set.get('llama');
      trip(llama);
      assert.equal(set.get('mistral'), undefined);

      set.reconfigure(defaults, new Map([['llama', lenient]]), 1);

      assert.equal(set.find('llama'), llama);
      assert.equal(llama?.state().kind, 'open');
      assert.equal(llama?.snapshot().settings.failureThreshold, 10);
      assert.ok(set.get('mistral'));
    });

    it('creates breakers for newly configured upstreams', () => {
      const { set } = makeSet([], 0);

      set.reconfigure(defaults, new Map([['openai', strict]]), 0);

      assert.equal(set.find('openai')?.snapshot().settings.failureThreshold, 1);
    });

    it('announces breakers made after construction and the ones it drops', () => {
      const { set } = makeSet([['gone', strict]]);
      const added: string[] = [];
      const removed: string[] = [];
      set.events.onAdded(({ breaker }) => added.push(breaker));
      set.events.onRemoved(({ breaker }) => removed.push(breaker));

      set.get('llama');
      set.reconfigure(defaults, new Map([['anthropic', strict]]), 2);
      set.get('llama');

      assert.deepEqual(added, ['llama', 'anthropic']);
      assert.deepEqual(removed, ['gone']);
    });

    it('keeps existing dynamic breakers but creates no more when maxDynamic is lowered', () => {
      const { set } = makeSet([], 3);
      set.get('a');
      set.get('b');

      set.reconfigure(defaults, new Map(), 1);

      assert.deepEqual(names(set), ['a', 'b']);
      assert.equal(set.get('c'), undefined);
    });

    it('throws a RangeError naming the upstream and changes nothing when settings are bad', () => {
      const { set } = makeSet([['openai', strict]]);
      const bad = { ...strict, halfOpenMaxRequests: 0 };

      assert.throws(
        () => set.reconfigure(lenient, new Map([['anthropic', bad]]), 2),
        /breaker "anthropic" halfOpenMaxRequests/,
      );
      assert.throws(() => set.reconfigure(lenient, new Map(), -1), /maxDynamic/);

      assert.deepEqual(names(set), ['openai']);
      assert.equal(set.find('openai')?.snapshot().settings.failureThreshold, 1);
      assert.equal(set.get('llama')?.snapshot().settings.failureThreshold, 2);
    });
  });

  describe('scoped breakers', () => {
    function scopedSet(scoped: [string, BreakerSettings][]) {
      const clock = new FakeClock();
      const perUpstream = new Map([['llm', lenient]]);
      const set = new BreakerSet({ defaults, perUpstream, scoped: new Map(scoped), maxDynamic: 2 });
      return { clock, set };
    }

    it('keeps them apart from upstream names: only findScoped returns them to traffic', () => {
      const { set } = scopedSet([['payments:llm', strict]]);

      assert.equal(set.findScoped('payments:llm')?.snapshot().settings.failureThreshold, 1);
      assert.equal(set.findScoped('llm'), undefined);
      assert.equal(set.get('llm')?.snapshot().settings.failureThreshold, 10);
      assert.equal(set.find('payments:llm'), set.findScoped('payments:llm'), 'admin lookup');
      assert.deepEqual(names(set), ['llm', 'payments:llm']);
    });

    it('keeps scoped breakers that stay, with new settings, and drops the rest', () => {
      const { set } = scopedSet([
        ['payments:llm', lenient],
        ['search:llm', strict],
      ]);
      const kept = set.findScoped('payments:llm');
      const admission = kept!.tryAcquire();
      assert.ok(admission.admitted);
      admission.permit.recordFailure();

      set.reconfigure(
        defaults,
        new Map([['llm', lenient]]),
        2,
        new Map([
          ['payments:llm', strict],
          ['payments:api:llm', strict],
        ]),
      );

      assert.equal(set.findScoped('payments:llm'), kept);
      assert.equal(kept?.snapshot().consecutiveFailures, 1);
      assert.equal(kept?.snapshot().settings.failureThreshold, 1);
      assert.equal(set.findScoped('search:llm'), undefined);
      assert.ok(set.findScoped('payments:api:llm'));
    });

    it('refuses bad scoped settings, naming the id, and changes nothing', () => {
      const { set } = scopedSet([['payments:llm', strict]]);
      const bad = new Map([['payments:llm', { ...strict, failureThreshold: 0 }]]);

      assert.throws(
        () => set.reconfigure(defaults, new Map(), 2, bad),
        /scoped breaker "payments:llm" failureThreshold/,
      );
      assert.equal(set.findScoped('payments:llm')?.snapshot().settings.failureThreshold, 1);
      assert.ok(set.find('llm'), 'the global breaker was not dropped either');
    });
  });

  const badOptions = [
    { what: 'maxDynamic', maxDynamic: 1.5, perUpstream: [] },
    { what: 'maxDynamic', maxDynamic: -1, perUpstream: [] },
    {
      what: 'breaker "x" timeoutSeconds',
      maxDynamic: 1,
      perUpstream: [['x', { ...strict, timeoutSeconds: -3 }]] as [string, BreakerSettings][],
    },
  ];
  for (const { what, maxDynamic, perUpstream } of badOptions) {
    it(`throws a RangeError naming ${what} when it is out of range at construction`, () => {
      const build = () =>
        new BreakerSet({ defaults, perUpstream: new Map(perUpstream), maxDynamic });

      assert.throws(build, RangeError);
      assert.throws(build, new RegExp(what));
    });
  }

  it('disposes every breaker and empties itself on dispose', () => {
    const { set, clock } = makeSet([['openai', strict]]);
    trip(set.find('openai'));
    trip(set.get('llama'));
    assert.equal(clock.pendingTimers(), 2);

    set.dispose();

    assert.equal(clock.pendingTimers(), 0);
    assert.deepEqual(set.list(), []);
  });
});
