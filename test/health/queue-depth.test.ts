import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { runProbeRound, type ProbeRound } from '../../src/health/probe-round.js';
import { startMockLlm } from '../../src/mock-llm/mock-llm-server.js';
import { systemClock } from '../../src/time/clock.js';
import { clientFor, compileTestCluster, loopback } from './health-fixtures.js';
import {
  COMPLETION,
  ProbeBackend,
  refusedPort,
  sendJson,
  type BackendHandler,
} from './probe-backend.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** One probe round of a backend answering with `handler`, under the given `checks:`. */
async function round(handler: BackendHandler, checks: Record<string, unknown>) {
  const server = await ProbeBackend.start(handler);
  cleanup.push(() => server.close());
  return { round: await roundAt(server.port, checks), server };
}

async function roundAt(port: number, checks: Record<string, unknown>): Promise<ProbeRound> {
  const cluster = compileTestCluster({ name: 'llm', endpoints: [loopback(port)], checks });
  const client = clientFor(port);
  cleanup.push(() => client.close());
  return runProbeRound({ client, checks: cluster.checks, clock: systemClock });
}

/** A completion answer carrying `x-queue-depth: depth`. */
function depthHeader(depth: string): BackendHandler {
  return (_request, response) => sendJson(response, 200, COMPLETION, { 'x-queue-depth': depth });
}

const FROM_HEADER = {
  inference_probe: { model: 'm' },
  queue_depth: { header: 'x-queue-depth', degraded_threshold: 10, unhealthy_threshold: 50 },
};

function queueRun(result: ProbeRound) {
  return result.checks.find((run) => run.check === 'queue_depth');
}

describe('queue_depth', () => {
  const depths: Array<{ depth: string; status: string; detail?: string }> = [
    { depth: '0', status: 'HEALTHY' },
    { depth: '10', status: 'HEALTHY' },
    { depth: '11', status: 'DEGRADED', detail: 'queue depth 11 is over degraded_threshold 10' },
    { depth: '50', status: 'DEGRADED', detail: 'queue depth 50 is over degraded_threshold 10' },
    { depth: '51', status: 'UNHEALTHY', detail: 'queue depth 51 is over unhealthy_threshold 50' },
  ];

  for (const { depth, status, detail } of depths) {
    it(`is ${status} at depth ${depth} read from the probe response header`, async () => {
      const { round: result, server } = await round(depthHeader(depth), FROM_HEADER);

      assert.equal(result.verdict.status, status);
      assert.equal(result.queueDepth, Number(depth));
      assert.deepEqual(
        result.verdict.reasons.map((reason) => reason.detail),
        detail ? [detail] : [],
      );
      assert.equal(server.requests.length, 1, 'the probe response is read, nothing else sent');
    });
  }

  it('reads a dotted body_field of the probe response', async () => {
    const { round: result } = await round(
      (_request, response) => sendJson(response, 200, { ...COMPLETION, queue: { waiting: 77 } }),
      { inference_probe: { model: 'm' }, queue_depth: { body_field: 'queue.waiting' } },
    );

    assert.equal(result.queueDepth, 77);
    assert.equal(result.verdict.status, 'HEALTHY');
  });

  it('falls back from a missing header to the body_field', async () => {
    const { round: result } = await round(
      (_request, response) => sendJson(response, 200, { ...COMPLETION, depth: 120 }),
      {
        inference_probe: { model: 'm' },
        queue_depth: { header: 'x-queue-depth', body_field: 'depth' },
      },
    );

    assert.equal(result.queueDepth, 120);
    assert.equal(result.verdict.status, 'DEGRADED');
  });

  it('GETs its own endpoint and reads a JSON field there', async () => {
    const { round: result, server } = await round(
      (request, response) =>
        request.path === '/stats'
          ? sendJson(response, 200, { scheduler: { queued: 900 } })
          : sendJson(response, 200, COMPLETION),
      { queue_depth: { endpoint: '/stats', body_field: 'scheduler.queued' } },
    );

    assert.equal(result.queueDepth, 900);
    assert.equal(result.verdict.status, 'UNHEALTHY');
    assert.deepEqual(
      server.requests.map((request) => [request.method, request.path]),
      [['GET', '/stats']],
    );
    assert.ok(queueRun(result)?.latencyMs !== undefined, 'its own request is timed');
  });

  it('reads a bare number body from its own endpoint', async () => {
    const { round: result } = await round((_request, response) => void response.end(' 42\n'), {
      queue_depth: { endpoint: '/queue' },
    });

    assert.equal(result.queueDepth, 42);
  });

  const unreadable: Array<{
    what: string;
    handler: BackendHandler;
    queue: object;
    detail: RegExp;
  }> = [
    {
      what: 'the header is missing',
      handler: (_request, response) => sendJson(response, 200, COMPLETION),
      queue: { header: 'x-queue-depth' },
      detail: /no x-queue-depth header/,
    },
    {
      what: 'the header is not a number',
      handler: depthHeader('lots'),
      queue: { header: 'x-queue-depth' },
      detail: /header x-queue-depth is lots, not a depth/,
    },
    {
      what: 'the field is negative',
      handler: (_request, response) => sendJson(response, 200, { ...COMPLETION, depth: -1 }),
      queue: { body_field: 'depth' },
      detail: /body field depth is -1, not a depth/,
    },
  ];

  for (const { what, handler, queue, detail } of unreadable) {
    it(`is DEGRADED when ${what}: the backend answers but its load is unknown`, async () => {
      const { round: result } = await round(handler, {
        inference_probe: { model: 'm' },
        queue_depth: queue,
      });

      assert.equal(result.verdict.status, 'DEGRADED');
      assert.match(result.verdict.reasons[0]?.detail ?? '', detail);
      assert.equal(queueRun(result)?.failed, true);
    });
  }

  it('is DEGRADED when its own endpoint fails, naming the endpoint', async () => {
    const { round: result } = await round((_request, response) => sendJson(response, 503, {}), {
      queue_depth: { endpoint: '/queue' },
    });

    assert.equal(result.verdict.status, 'DEGRADED');
    assert.equal(result.verdict.reasons[0]?.detail, '/queue: HTTP 503');
  });

  it('reads the depth from a failed probe answer that carries it', async () => {
    const { round: result } = await round(
      (_request, response) => sendJson(response, 503, {}, { 'x-queue-depth': '800' }),
      FROM_HEADER,
    );

    assert.equal(result.queueDepth, 800);
    assert.deepEqual(
      result.verdict.reasons.map((reason) => reason.check),
      ['inference_probe', 'queue_depth'],
    );
  });

  it('adds no queue failure for an error answer without the depth', async () => {
    const { round: result } = await round(
      (_request, response) => sendJson(response, 503, {}),
      FROM_HEADER,
    );

    assert.deepEqual(
      result.checks.map((run) => [run.check, run.failed]),
      [['inference_probe', true]],
    );
  });

  it('adds nothing when the probe got no response to read', async () => {
    const result = await roundAt(await refusedPort(), FROM_HEADER);

    assert.equal(result.verdict.status, 'UNHEALTHY');
    assert.deepEqual(
      result.checks.map((run) => run.check),
      ['inference_probe'],
    );
  });

  it('reads the mock LLM backend by header and from its /health endpoint', async () => {
    const mock = await startMockLlm({ queueDepth: 30 });
    cleanup.push(() => mock.close());

    const byHeader = await roundAt(mock.port, {
      inference_probe: { model: 'mock-model' },
      queue_depth: { header: 'x-queue-depth', degraded_threshold: 20 },
    });
    const byEndpoint = await roundAt(mock.port, {
      queue_depth: {
        endpoint: '/health',
        body_field: 'queue_depth',
        degraded_threshold: 5,
        unhealthy_threshold: 29,
      },
    });

    assert.equal(byHeader.queueDepth, 30);
    assert.equal(byHeader.verdict.status, 'DEGRADED');
    assert.equal(byEndpoint.queueDepth, 30);
    assert.equal(byEndpoint.verdict.status, 'UNHEALTHY');
  });
});
