import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { runProbeRound } from '../../src/health/probe-round.js';
import { systemClock } from '../../src/time/clock.js';
import { clientFor, compileTestCluster, loopback } from './health-fixtures.js';
import { refusedPort, startRawBackend } from './probe-backend.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const EVERY_CHECK = {
  timeout: '200ms',
  inference_probe: { model: 'm' },
  queue_depth: { endpoint: '/queue' },
  model_status: { endpoint_pattern: '/v1/models/{model}', models: ['a', 'b', 'c'] },
};

async function roundAt(port: number, checks: Record<string, unknown>) {
  const cluster = compileTestCluster({ name: 'llm', endpoints: [loopback(port)], checks });
  const client = clientFor(port);
  cleanup.push(() => client.close());
  return runProbeRound({ client, checks: cluster.checks, clock: systemClock });
}

/** A backend that accepts connections and never answers, counting them. */
async function hangingBackend() {
  let connections = 0;
  const raw = await startRawBackend(() => (connections += 1));
  cleanup.push(() => raw.close());
  return { port: raw.port, connections: () => connections };
}

describe('a probe round against a backend that does not answer', () => {
  it('ends after the inference probe times out, instead of one timeout per check', async () => {
    const backend = await hangingBackend();

    const round = await roundAt(backend.port, EVERY_CHECK);

    assert.equal(round.verdict.status, 'UNHEALTHY');
    assert.deepEqual(
      round.checks.map((run) => run.check),
      ['inference_probe'],
    );
    assert.ok(round.durationMs < 400, `the round took ${round.durationMs} ms`);
    assert.equal(backend.connections(), 1);
  });

  it('ends after a refused connection', async () => {
    const round = await roundAt(await refusedPort(), EVERY_CHECK);

    assert.match(round.verdict.reasons[0]?.detail ?? '', /^connect: /);
    assert.equal(round.checks.length, 1);
  });

  it('stops asking about models after one gets no answer', async () => {
    const backend = await hangingBackend();

    const round = await roundAt(backend.port, {
      timeout: '200ms',
      model_status: EVERY_CHECK.model_status,
    });

    assert.deepEqual(
      round.verdict.reasons.map((reason) => reason.detail),
      ['model a: timeout: no complete answer within 200 ms'],
    );
    assert.ok(round.durationMs < 400, `the round took ${round.durationMs} ms`);
  });

  it('only degrades an endpoint whose queue endpoint gets no answer', async () => {
    const round = await roundAt(await refusedPort(), { queue_depth: { endpoint: '/queue' } });

    assert.equal(round.verdict.status, 'DEGRADED');
    assert.match(round.verdict.reasons[0]?.detail ?? '', /^\/queue: connect: /);
  });
});
