import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { BreakerSet } from '../../src/breaker/breaker-set.js';
import { defaultBreakerSettings } from '../../src/breaker/breaker-settings.js';
import { observeHealthLogs } from '../../src/health/health-observers.js';
import { FakeClock } from '../helpers/fake-clock.js';
import {
  compileTestCluster,
  roundsOf,
  keyOf,
  loopback,
  published,
  settle,
  startMonitor,
} from './health-fixtures.js';
import { ProbeBackend } from './probe-backend.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A breaker set on `clock` where one failure opens a breaker for 30 s. */
function breakerSet(clock: FakeClock): BreakerSet {
  const breakers = new BreakerSet({
    defaults: { ...defaultBreakerSettings, failureThreshold: 1, successThreshold: 1 },
    perUpstream: new Map(),
    maxDynamic: 10,
    clock,
  });
  cleanup.push(async () => breakers.dispose());
  return breakers;
}

function openBreaker(breakers: BreakerSet, key: string): void {
  const admission = breakers.get(key)!.tryAcquire();
  assert.ok(admission.admitted);
  admission.permit.recordFailure();
}

/** `count` backends in one cluster, monitored on a fake clock, first rounds done. */
async function setup(count: number) {
  const clock = new FakeClock();
  const breakers = breakerSet(clock);
  const servers = await Promise.all(Array.from({ length: count }, () => ProbeBackend.start()));
  cleanup.push(...servers.map((server) => () => server.close()));
  const cluster = compileTestCluster({
    name: 'llm',
    endpoints: servers.map((server) => loopback(server.port)),
    checks: { interval: '60m', interval_jitter_percent: 0, inference_probe: { model: 'm' } },
  });
  const { monitor, logs } = await startMonitor([cluster], { clock, breakers });
  observeHealthLogs(monitor, logs.logger);
  cleanup.push(() => monitor.stop());
  const keys = servers.map((server) => keyOf(server.port));
  await roundsOf(clock, monitor, keys);

  const state = (key: string) => {
    const endpoint = published(monitor, 'llm', key);
    return [endpoint.status, endpoint.envoyHealth, endpoint.weight];
  };
  return { clock, breakers, monitor, logs, keys, state };
}

describe('breakers feeding endpoint health', () => {
  it('marks an endpoint UNHEALTHY when its breaker opens, half-open at weight 1', async () => {
    const { clock, breakers, keys, state } = await setup(2);
    const [key] = keys as [string];

    assert.deepEqual(state(key), ['HEALTHY', 'HEALTHY', 100]);

    openBreaker(breakers, key);
    await settle();
    assert.deepEqual(state(key), ['UNHEALTHY', 'UNHEALTHY', 100]);

    clock.advance(30_000);
    await settle();
    assert.equal(breakers.find(key)?.state().kind, 'half_open');
    assert.deepEqual(state(key), ['DEGRADED', 'HEALTHY', 1]);

    const trial = breakers.get(key)!.tryAcquire();
    assert.ok(trial.admitted, 'a trial request gets through');
    trial.permit.recordSuccess();
    await settle();
    assert.deepEqual(state(key), ['HEALTHY', 'HEALTHY', 100]);
  });

  it('ignores breakers that are named like no endpoint', async () => {
    const { breakers, keys, state } = await setup(1);

    openBreaker(breakers, 'llm_backend');
    await settle();

    assert.deepEqual(state(keys[0]!), ['HEALTHY', 'HEALTHY', 100]);
  });
});

describe('the routable guard and the panic warning', () => {
  it('warns once when a level falls under the panic threshold, then recovers', async () => {
    const { breakers, logs, keys } = await setup(3);
    const [a, b] = keys as [string, string, string];

    openBreaker(breakers, a);
    await settle();
    assert.deepEqual(logs.find("below Envoy's panic threshold"), []);

    openBreaker(breakers, b);
    await settle();
    const [warning] = logs.find("below Envoy's panic threshold");
    assert.equal(warning?.level, 'warn');
    assert.match(warning?.msg ?? '', /cluster llm priority 0: only 1 of 3 endpoints are routable/);

    breakers.find(b)!.reset();
    await settle();
    assert.equal(logs.find("below Envoy's panic threshold").length, 1);
    assert.equal(logs.find("back above Envoy's panic threshold")[0]?.level, 'info');
  });

  it('keeps one endpoint routable when every breaker is open, and warns', async () => {
    const { breakers, monitor, logs, keys, state } = await setup(3);

    for (const key of keys) openBreaker(breakers, key);
    await settle();

    assert.deepEqual(keys.map(state), [
      ['DEGRADED', 'HEALTHY', 50],
      ['UNHEALTHY', 'UNHEALTHY', 100],
      ['UNHEALTHY', 'UNHEALTHY', 100],
    ]);
    assert.match(
      published(monitor, 'llm', keys[0]!).reasons.at(-1)?.detail ?? '',
      /every endpoint of cluster llm is unhealthy; this one is kept routable/,
    );
    assert.equal(logs.find(`endpoint ${keys[1]} of cluster llm is UNHEALTHY`)[0]?.level, 'warn');
    assert.equal(logs.find("below Envoy's panic threshold").length, 1);
  });
});
