import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Registry } from 'prom-client';

import { POSSIBLE_TRANSITIONS } from '../../src/breaker/breaker-events.js';
import { observeBreakerMetrics } from '../../src/breaker/breaker-observers.js';
import { BreakerSet } from '../../src/breaker/breaker-set.js';
import {
  defaultBreakerSettings,
  type BreakerSettings,
} from '../../src/breaker/breaker-settings.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { sampleValue } from '../helpers/metrics.js';

const settings: BreakerSettings = { ...defaultBreakerSettings, failureThreshold: 1 };

function observedSet(configured: string[]) {
  const set = new BreakerSet({
    defaults: settings,
    perUpstream: new Map(configured.map((name) => [name, settings])),
    maxDynamic: 4,
    clock: new FakeClock(),
  });
  const registry = new Registry();
  observeBreakerMetrics(set.events, () => set, registry);
  return { set, scrape: () => registry.metrics() };
}

/** Every counter sample of `breaker`: each transition pair, then the rejections. */
function counters(text: string, breaker: string): Array<number | undefined> {
  const transitions = POSSIBLE_TRANSITIONS.map(([from, to]) =>
    sampleValue(text, 'tollgate_breaker_transitions_total', { breaker, from, to }),
  );
  const rejections = sampleValue(text, 'tollgate_breaker_rejections_total', { breaker });
  return [...transitions, rejections];
}

const zeros = Array<number>(POSSIBLE_TRANSITIONS.length + 1).fill(0);
const absent = Array<undefined>(POSSIBLE_TRANSITIONS.length + 1).fill(undefined);

describe('breaker metrics', () => {
  it('starts every counter series of a configured breaker at zero', async () => {
    const { scrape } = observedSet(['llm']);

    assert.deepEqual(counters(await scrape(), 'llm'), zeros);
  });

  it('starts the series of a dynamic breaker at zero when it is made', async () => {
    const { set, scrape } = observedSet([]);
    assert.deepEqual(counters(await scrape(), 'fresh'), absent);

    set.get('fresh');

    assert.deepEqual(counters(await scrape(), 'fresh'), zeros);
  });

  it('counts from zero once events arrive, leaving the other pairs at zero', async () => {
    const { set, scrape } = observedSet(['llm']);
    const breaker = set.find('llm')!;

    const admission = breaker.tryAcquire();
    assert.ok(admission.admitted);
    admission.permit.recordFailure();
    breaker.tryAcquire();

    const text = await scrape();
    const opened = { breaker: 'llm', from: 'closed', to: 'open' };
    const reopened = { breaker: 'llm', from: 'half_open', to: 'open' };
    assert.equal(sampleValue(text, 'tollgate_breaker_transitions_total', opened), 1);
    assert.equal(sampleValue(text, 'tollgate_breaker_transitions_total', reopened), 0);
    assert.equal(sampleValue(text, 'tollgate_breaker_rejections_total', { breaker: 'llm' }), 1);
  });

  it('drops the series of a breaker a reload removes, and keeps the others', async () => {
    const { set, scrape } = observedSet(['gone', 'kept']);

    set.reconfigure(settings, new Map([['kept', settings]]), 4);

    const text = await scrape();
    assert.deepEqual(counters(text, 'gone'), absent);
    assert.deepEqual(counters(text, 'kept'), zeros);
  });

  it('starts the series of a breaker a reload adds', async () => {
    const { set, scrape } = observedSet([]);

    set.reconfigure(settings, new Map([['added', settings]]), 4);

    assert.deepEqual(counters(await scrape(), 'added'), zeros);
  });

  it('starts and drops the series of scoped breakers a reload adds and removes', async () => {
    const { set, scrape } = observedSet([]);
    const scoped = (ids: string[]) => new Map(ids.map((id) => [id, settings]));

    set.reconfigure(settings, new Map(), 4, scoped(['payments:llm', 'payments:api:llm']));
    const added = await scrape();
    set.reconfigure(settings, new Map(), 4, scoped(['payments:llm']));
    const after = await scrape();

    assert.deepEqual(counters(added, 'payments:api:llm'), zeros);
    assert.deepEqual(counters(after, 'payments:api:llm'), absent);
    assert.deepEqual(counters(after, 'payments:llm'), zeros);
  });
});
