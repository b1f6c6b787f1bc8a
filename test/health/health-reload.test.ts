import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import { Registry } from 'prom-client';

import type { RoundFinished } from '../../src/health/health-events.js';
import { observeHealthMetrics } from '../../src/health/health-observers.js';
import { sampleValue } from '../helpers/metrics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import {
  compileTestCluster,
  keyOf,
  loopback,
  published,
  roundsOf,
  startMonitor,
} from './health-fixtures.js';
import { COMPLETION, ProbeBackend, sendJson } from './probe-backend.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function backends(count: number): Promise<ProbeBackend[]> {
  const started = await Promise.all(Array.from({ length: count }, () => ProbeBackend.start()));
  cleanup.push(...started.map((server) => () => server.close()));
  return started;
}

/** A cluster `llm` over these backends, probed every 10 s with warmth detection. */
function clusterOf(servers: ProbeBackend[], checks: Record<string, unknown> = {}) {
  return compileTestCluster({
    name: 'llm',
    endpoints: servers.map((server) => loopback(server.port)),
    checks: {
      interval: '10s',
      interval_jitter_percent: 0,
      unhealthy_threshold: 1,
      inference_probe: { model: 'm' },
      warmth_detection: { sample_size: 2 },
      ...checks,
    },
  });
}

describe('reload', () => {
  it('keeps the probe state of endpoints that stay, and stops probing removed ones', async () => {
    const clock = new FakeClock();
    const [a, b, c] = await backends(3);
    const [keyA, keyB, keyC] = [a!, b!, c!].map((server) => keyOf(server.port));
    const { monitor } = await startMonitor([clusterOf([a!, b!])], { clock });
    cleanup.push(() => monitor.stop());
    await roundsOf(clock, monitor, [keyA!, keyB!]);
    await roundsOf(clock, monitor, [keyA!, keyB!], 10_000);
    const kept = monitor.cluster('llm')!.endpoint(keyA!)!;
    const baseline = kept.warmth.baselineMs;
    assert.notEqual(baseline, undefined);

    await monitor.prepareOrThrow([clusterOf([a!, c!])])();
    const probesOfB = b!.requests.length;

    assert.equal(monitor.cluster('llm')!.endpoint(keyA!), kept, 'the same state object');
    assert.equal(kept.warmth.baselineMs, baseline);
    assert.deepEqual(published(monitor, 'llm', keyA!).envoyHealth, 'HEALTHY');
    assert.deepEqual(published(monitor, 'llm', keyC!).envoyHealth, 'UNKNOWN');
    assert.equal(monitor.cluster('llm')!.endpoint(keyB!), undefined);
    assert.deepEqual(
      monitor.evaluation('llm')!.endpoints.map((endpoint) => endpoint.config.key),
      [keyA, keyC],
    );

    await roundsOf(clock, monitor, [keyC!]);
    await roundsOf(clock, monitor, [keyA!, keyC!], 10_000);
    assert.equal(b!.requests.length, probesOfB, 'the removed endpoint is not probed again');
    assert.equal(published(monitor, 'llm', keyC!).envoyHealth, 'HEALTHY');
  });

  it('keeps state but probes with the new settings when the checks change', async () => {
    const clock = new FakeClock();
    const [a] = await backends(1);
    const key = keyOf(a!.port);
    const { monitor } = await startMonitor([clusterOf([a!])], { clock });
    cleanup.push(() => monitor.stop());
    await roundsOf(clock, monitor, [key]);
    await roundsOf(clock, monitor, [key], 10_000);
    const baseline = monitor.cluster('llm')!.endpoint(key)!.warmth.baselineMs;

    await monitor.prepareOrThrow([
      clusterOf([a!], { interval: '30s', inference_probe: { model: 'llama-3' } }),
    ])();
    const probedAfter = (ms: number) =>
      Promise.race([
        roundsOf(clock, monitor, [key], ms).then(() => 'probed'),
        sleep(300).then(() => 'not probed'),
      ]);

    assert.equal(await probedAfter(10_000), 'not probed', 'the old 10 s interval is gone');
    assert.equal(await probedAfter(20_000), 'probed', 'the new 30 s interval applies');
    assert.equal(JSON.parse(a!.requests.at(-1)!.body).model, 'llama-3');
    assert.equal(monitor.cluster('llm')!.endpoint(key)!.warmth.baselineMs, baseline);
    assert.equal(published(monitor, 'llm', key).status, 'HEALTHY');
  });

  it('waits for a round in flight on a removed endpoint and drops its result', async () => {
    const [fast] = await backends(1);
    const slow = await ProbeBackend.start(async (_request, response) => {
      await sleep(150);
      sendJson(response, 200, COMPLETION);
    });
    cleanup.push(() => slow.close());
    const { monitor } = await startMonitor([clusterOf([fast!, slow])]);
    cleanup.push(() => monitor.stop());
    const rounds: RoundFinished[] = [];
    monitor.events.roundFinished.subscribe((event) => rounds.push(event));
    while (slow.requests.length === 0) await sleep(5);

    await monitor.prepareOrThrow([clusterOf([fast!])])();

    assert.ok(slow.maxInFlight === 1 && slow.requests.length === 1);
    assert.deepEqual(
      rounds.filter((event) => event.endpoint === keyOf(slow.port)),
      [],
      'the removed endpoint’s round was dropped',
    );
  });

  it('forgets probe results and stops probing when a reload removes every check', async () => {
    const clock = new FakeClock();
    const failing = await ProbeBackend.start((_request, response) => sendJson(response, 503, {}));
    cleanup.push(() => failing.close());
    const [fine] = await backends(1);
    const servers = [failing, fine!];
    const keys = servers.map((server) => keyOf(server.port));
    const { monitor } = await startMonitor([clusterOf(servers)], { clock });
    cleanup.push(() => monitor.stop());
    await roundsOf(clock, monitor, keys);
    assert.equal(published(monitor, 'llm', keys[0]!).status, 'UNHEALTHY');

    const unchecked = compileTestCluster({
      name: 'llm',
      endpoints: servers.map((server) => loopback(server.port)),
    });
    await monitor.prepareOrThrow([unchecked])();
    const probes = failing.requests.length;
    clock.advance(60_000);
    await sleep(50);

    assert.equal(published(monitor, 'llm', keys[0]!).status, 'HEALTHY');
    assert.equal(monitor.cluster('llm')!.endpoint(keys[0]!)!.lastRound, undefined);
    assert.equal(failing.requests.length, probes);
  });

  it('forgets a removed cluster, its evaluation and its gauge', async () => {
    const clock = new FakeClock();
    const [a, b] = await backends(2);
    const other = compileTestCluster({ name: 'other', endpoints: [loopback(b!.port)] });
    const { monitor } = await startMonitor([clusterOf([a!]), other], { clock });
    cleanup.push(() => monitor.stop());
    const registry = new Registry();
    observeHealthMetrics(monitor, registry);
    const gauge = async (cluster: string, port: number) =>
      sampleValue(await registry.metrics(), 'tollgate_endpoint_health', {
        cluster,
        endpoint: keyOf(port),
      });
    assert.equal(await gauge('other', b!.port), 1);

    await monitor.prepareOrThrow([clusterOf([a!])])();

    assert.equal(monitor.evaluation('other'), undefined);
    assert.equal(monitor.cluster('other'), undefined);
    assert.equal(await gauge('other', b!.port), undefined);
    assert.equal(await gauge('llm', a!.port), 1);
  });
});
