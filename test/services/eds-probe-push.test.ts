import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { SwitchableBackend } from '../helpers/switchable-backend.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';
import { edsClient, type EdsClient, type SotwStream } from '../helpers/xds-client.js';
import { clusterMetric, subscribedSotw } from './eds-fixtures.js';

/**
 * One cluster of two real backends, probed every 50 ms, where one round
 * moves a status; `extra` is appended to the cluster (indented for it).
 */
function probedCluster(ports: readonly number[], extra = ''): string {
  const endpoints = ports.map((port) => `      - { address: 127.0.0.1, port: ${port} }`);
  return `
clusters:
  - name: llm-probed
    endpoints:
${endpoints.join('\n')}
    checks:
      interval: 50ms
      interval_jitter_percent: 0
      timeout: 1s
      healthy_threshold: 1
      unhealthy_threshold: 1
      inference_probe:
        model: test-model
${extra}`;
}

/** Reads pushes until one matches `expected`; returns how many it took. */
async function pushUntil(stream: SotwStream, expected: Record<string, string>): Promise<number> {
  for (let read = 1; ; read++) {
    const response = await stream.next(3000);
    const health = healthMap(decodeAssignment(response.resources[0]));
    if (JSON.stringify(health) === JSON.stringify(expected)) return read;
  }
}

describe('EDS pushes from probe results', () => {
  let flaky: SwitchableBackend;
  let steady: SwitchableBackend;
  let tg: TestTollgate | undefined;
  let client: EdsClient | undefined;
  let a: string;
  let b: string;

  beforeEach(async () => {
    flaky = await SwitchableBackend.start();
    steady = await SwitchableBackend.start();
    a = `127.0.0.1:${flaky.port}`;
    b = `127.0.0.1:${steady.port}`;
  });
  afterEach(async () => {
    client?.close();
    await tg?.stop();
    await Promise.all([flaky.stop(), steady.stop()]);
  });

  async function start(extra = ''): Promise<{ tg: TestTollgate; client: EdsClient }> {
    tg = await startTestTollgate(probedCluster([flaky.port, steady.port], extra));
    client = edsClient(tg.tollgate.grpcPort);
    return { tg, client };
  }

  /** A stream subscribed to the probed cluster once both endpoints are published `health`. */
  async function subscribedWhen(health: string): Promise<SotwStream> {
    const { client } = await start();
    const expected = { [a]: health, [b]: health };
    const { stream, initial } = await subscribedSotw(client, ['llm-probed']);
    const first = initial.get('llm-probed')?.assignment;
    if (!first || JSON.stringify(healthMap(first)) !== JSON.stringify(expected)) {
      await pushUntil(stream, expected);
    }
    return stream;
  }

  it('pushes UNHEALTHY when a backend fails its probe, and HEALTHY when it recovers', async () => {
    const stream = await subscribedWhen('HEALTHY@100');

    flaky.switchTo(false);
    assert.equal(await pushUntil(stream, { [a]: 'UNHEALTHY@100', [b]: 'HEALTHY@100' }), 1);

    flaky.switchTo(true);
    assert.equal(await pushUntil(stream, { [a]: 'HEALTHY@100', [b]: 'HEALTHY@100' }), 1);
  });

  it('pushes nothing while the probe results stay the same', async () => {
    const stream = await subscribedWhen('HEALTHY@100');
    const pushes = await clusterMetric(tg!, 'tollgate_eds_pushes_total', 'llm-probed');

    // Every round re-evaluates the cluster; five more rounds of each backend.
    const seen = flaky.requests + steady.requests;
    await waitFor(() => flaky.requests + steady.requests >= seen + 10, 3000);

    assert.equal(await stream.quiet(0), true);
    assert.equal(await clusterMetric(tg!, 'tollgate_eds_pushes_total', 'llm-probed'), pushes);
  });

  it('publishes endpoints whose first probe has not finished as UNKNOWN', async () => {
    flaky.hang();
    steady.hang();
    const { client } = await start();

    const { initial } = await subscribedSotw(client, ['llm-probed']);

    const assignment = initial.get('llm-probed')?.assignment;
    assert.ok(assignment);
    assert.deepEqual(healthMap(assignment), { [a]: 'UNKNOWN@100', [b]: 'UNKNOWN@100' });
  });

  it('publishes a deep queue as DEGRADED at the lowered weight', async () => {
    const queue =
      '      queue_depth: { header: x-queue-depth, degraded_threshold: 10 }\n' +
      '    degraded_health_status: degraded\n' +
      '    degraded_weight_factor: 0.25\n';
    const { client } = await start(queue);
    const { stream } = await subscribedSotw(client, ['llm-probed']);

    flaky.queueDepth = 50;

    await pushUntil(stream, { [a]: 'DEGRADED@25', [b]: 'HEALTHY@100' });
  });
});
