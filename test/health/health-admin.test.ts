import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ClusterReport } from '../../src/health/health-report.js';
import { metricValue } from '../helpers/metrics.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';
import { keyOf } from './health-fixtures.js';
import { COMPLETION, ProbeBackend, sendJson } from './probe-backend.js';

let good: ProbeBackend;
let bad: ProbeBackend;
let gate: TestTollgate;

before(async () => {
  good = await ProbeBackend.start((_request, response) =>
    sendJson(response, 200, COMPLETION, { 'x-queue-depth': '4' }),
  );
  bad = await ProbeBackend.start((_request, response) => sendJson(response, 503, {}));
  gate = await startTestTollgate(`clusters:
  - name: llm_backend
    endpoints:
      - { address: 127.0.0.1, port: ${good.port}, weight: 60 }
      - { address: 127.0.0.1, port: ${bad.port}, priority: 1 }
    checks:
      interval: 50ms
      healthy_threshold: 1
      unhealthy_threshold: 1
      inference_probe: { model: mock-model }
      queue_depth: { header: x-queue-depth }
      warmth_detection: { sample_size: 2 }
`);
  await waitFor(async () => {
    const report = await clusters();
    return (
      report[0]?.endpoints.every(
        (endpoint) => endpoint.baselineMs !== undefined || endpoint.status === 'UNHEALTHY',
      ) ?? false
    );
  }, 5000);
});

after(async () => {
  await gate.stop();
  await good.close();
  await bad.close();
});

async function clusters(): Promise<ClusterReport[]> {
  const { text } = await gate.admin('/health');
  return (JSON.parse(text) as { clusters: ClusterReport[] }).clusters;
}

describe('GET /health', () => {
  it('lists every cluster and endpoint with status, reasons and what Envoy is told', async () => {
    const [cluster] = await clusters();
    const [healthy, failing] = cluster!.endpoints;

    assert.equal(cluster?.cluster, 'llm_backend');
    assert.equal(healthy?.endpoint, keyOf(good.port));
    assert.equal(healthy?.status, 'HEALTHY');
    assert.deepEqual(healthy?.published, { healthStatus: 'HEALTHY', weight: 60 });
    assert.equal(failing?.endpoint, keyOf(bad.port));
    assert.equal(failing?.priority, 1);
    assert.equal(failing?.status, 'UNHEALTHY');
    assert.deepEqual(failing?.published, { healthStatus: 'UNHEALTHY', weight: 100 });
    assert.deepEqual(failing?.reasons[0], {
      check: 'inference_probe',
      status: 'UNHEALTHY',
      detail: 'HTTP 503',
      value: 503,
    });
    assert.deepEqual(cluster?.panic, [
      { priority: 0, routable: 1, total: 1, below: false },
      { priority: 1, routable: 0, total: 1, below: false },
    ]);
  });

  it('shows the last probe: times, latencies, queue depth, and the baseline', async () => {
    const [cluster] = await clusters();
    const healthy = cluster!.endpoints[0]!;
    const last = healthy.lastProbe!;

    assert.ok(Date.parse(last.startedAt) <= Date.parse(last.finishedAt));
    assert.ok(Date.now() - Date.parse(last.finishedAt) < 5000);
    assert.equal(healthy.lastHealthyAt, last.finishedAt);
    assert.equal(last.status, 'HEALTHY');
    assert.equal(last.queueDepth, 4);
    assert.deepEqual(
      last.checks.map((run) => [run.check, run.status, run.failed]),
      [
        ['inference_probe', 'HEALTHY', false],
        ['warmth_detection', 'HEALTHY', false],
        ['queue_depth', 'HEALTHY', false],
      ],
    );
    assert.equal(typeof last.checks[0]?.latencyMs, 'number');
    assert.equal(typeof healthy.baselineMs, 'number');
    assert.equal(healthy.cold, false);
  });

  it('shows one cluster at /health/{cluster}, and 404 for a name not configured', async () => {
    const one = await gate.admin('/health/llm_backend');
    const missing = await gate.admin('/health/nope');

    assert.equal(one.status, 200);
    assert.equal((JSON.parse(one.text) as ClusterReport).endpoints.length, 2);
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.text).error, /no cluster named "nope"/);
  });
});

describe('health metrics', () => {
  it('publishes tollgate_endpoint_health per cluster and endpoint', async () => {
    const labels = (port: number) => ({ cluster: 'llm_backend', endpoint: keyOf(port) });

    assert.equal(await metricValue(gate, 'tollgate_endpoint_health', labels(good.port)), 1);
    assert.equal(await metricValue(gate, 'tollgate_endpoint_health', labels(bad.port)), 0);
  });

  it('times each check and counts failed ones by check', async () => {
    const probes = await metricValue(gate, 'tollgate_probe_duration_seconds_count', {
      check: 'inference_probe',
    });
    const failures = await metricValue(gate, 'tollgate_probe_failures_total', {
      check: 'inference_probe',
    });
    const queueFailures = await metricValue(gate, 'tollgate_probe_failures_total', {
      check: 'queue_depth',
    });

    assert.ok((probes ?? 0) >= 4, `${probes} probes timed`);
    assert.ok((failures ?? 0) >= 1, `${failures} failures counted`);
    assert.ok((failures ?? 0) < (probes ?? 0), 'the healthy endpoint adds no failures');
    assert.equal(queueFailures, undefined, 'a 503 without the depth is the probe’s failure');
  });
});
