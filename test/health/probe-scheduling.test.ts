import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import type { RoundFinished } from '../../src/health/health-events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/wait.js';
import {
  compileTestCluster,
  keyOf,
  loopback,
  nextRound,
  published,
  settle,
  startMonitor,
  stepRound,
} from './health-fixtures.js';
import { COMPLETION, ProbeBackend, sendJson, startRawBackend } from './probe-backend.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function backend(...args: Parameters<typeof ProbeBackend.start>): Promise<ProbeBackend> {
  const started = await ProbeBackend.start(...args);
  cleanup.push(() => started.close());
  return started;
}

describe('probe scheduling', () => {
  it('never sends two probes to one endpoint at once, even past the interval', async () => {
    const server = await backend(async (request, response) => {
      await sleep(25);
      if (request.path.startsWith('/v1/models/')) sendJson(response, 200, { status: 'ready' });
      else if (request.path === '/queue') response.end('3');
      else sendJson(response, 200, COMPLETION);
    });
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(server.port)],
      checks: {
        interval: '50ms',
        inference_probe: { model: 'm' },
        queue_depth: { endpoint: '/queue' },
        model_status: { endpoint_pattern: '/v1/models/{model}', models: ['a', 'b'] },
      },
    });
    const { monitor } = await startMonitor([cluster], { random: Math.random });
    const rounds: RoundFinished[] = [];
    monitor.events.roundFinished.subscribe((event) => rounds.push(event));
    cleanup.push(() => monitor.stop());

    await waitFor(() => rounds.length >= 4, 5000);
    await monitor.stop();

    assert.equal(server.maxInFlight, 1);
    assert.equal(server.requests.length % 4, 0, 'four requests per round, one after another');
    for (let i = 1; i < rounds.length; i++) {
      const gap = rounds[i]!.round.startedAtWallMs - rounds[i - 1]!.round.finishedAtWallMs;
      assert.ok(gap >= 49, `round ${i} started ${gap} ms after the previous one ended`);
    }
    assert.equal(rounds[0]!.round.verdict.status, 'HEALTHY');
  });

  it('keeps probing other endpoints while one hangs', async () => {
    const clock = new FakeClock();
    const hanging = await startRawBackend(() => undefined);
    cleanup.push(() => hanging.close());
    const healthy = await backend();
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(hanging.port), loopback(healthy.port)],
      checks: {
        interval: '10s',
        timeout: '30s',
        unhealthy_threshold: 1,
        inference_probe: { model: 'm' },
      },
    });
    const { monitor } = await startMonitor([cluster], { clock });
    cleanup.push(() => monitor.stop());

    await stepRound(clock, monitor, keyOf(healthy.port), 0);
    await stepRound(clock, monitor, keyOf(healthy.port), 10_000);
    await stepRound(clock, monitor, keyOf(healthy.port), 10_000);
    assert.equal(healthy.requests.length, 3);
    assert.equal(monitor.cluster('llm')?.endpoint(keyOf(hanging.port))?.lastRound, undefined);
    assert.equal(published(monitor, 'llm', keyOf(hanging.port)).envoyHealth, 'UNKNOWN');

    const timedOut = nextRound(monitor, keyOf(hanging.port));
    clock.advance(10_000);
    const { round } = await timedOut;
    await settle();

    assert.match(
      round.verdict.reasons[0]?.detail ?? '',
      /^timeout: no complete answer within 30000 ms/,
    );
    assert.equal(published(monitor, 'llm', keyOf(hanging.port)).status, 'UNHEALTHY');
    assert.equal(published(monitor, 'llm', keyOf(healthy.port)).status, 'HEALTHY');
  });

  it('stops at once, cutting a probe in flight rather than waiting out its timeout', async () => {
    let connected = false;
    const hanging = await startRawBackend(() => (connected = true));
    cleanup.push(() => hanging.close());
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(hanging.port)],
      checks: { timeout: '30s', inference_probe: { model: 'm' } },
    });
    const { monitor } = await startMonitor([cluster]);
    const rounds: RoundFinished[] = [];
    monitor.events.roundFinished.subscribe((event) => rounds.push(event));
    await waitFor(() => connected);

    const started = Date.now();
    await monitor.stop();

    assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started} ms`);
    assert.deepEqual(rounds, [], 'the cut round is not reported');
  });

  it('moves an endpoint only after healthy_threshold or unhealthy_threshold rounds', async () => {
    const clock = new FakeClock();
    let failing = false;
    const flaky = await backend((_request, response) =>
      failing ? sendJson(response, 503, {}) : sendJson(response, 200, COMPLETION),
    );
    const steady = await backend();
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(flaky.port), loopback(steady.port)],
      checks: {
        interval: '5s',
        healthy_threshold: 2,
        unhealthy_threshold: 3,
        inference_probe: { model: 'm' },
      },
    });
    const { monitor } = await startMonitor([cluster], { clock });
    cleanup.push(() => monitor.stop());
    const key = keyOf(flaky.port);
    const statusAfterRound = async (ms: number) => {
      await stepRound(clock, monitor, key, ms);
      return published(monitor, 'llm', key).status;
    };

    const seen = [await statusAfterRound(0)];
    failing = true;
    for (let i = 0; i < 3; i++) seen.push(await statusAfterRound(5000));
    failing = false;
    for (let i = 0; i < 2; i++) seen.push(await statusAfterRound(5000));

    assert.deepEqual(seen, ['HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'HEALTHY']);
  });
});
