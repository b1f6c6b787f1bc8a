import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { SwitchableBackend } from '../helpers/switchable-backend.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';
import { edsClient, type EdsClient, type SotwStream } from '../helpers/xds-client.js';
import { clusterMetric, subscribedSotw } from './eds-fixtures.js';

/** One cluster of two real backends, probed every 50 ms; one round moves a status. */
function probedCluster(ports: readonly number[]): string {
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
`;
}

/** A stream subscribed to the probed cluster once both endpoints are published HEALTHY. */
async function subscribedWhenHealthy(client: EdsClient, healthy: Record<string, string>) {
  const { stream, initial } = await subscribedSotw(client, ['llm-probed']);
  const first = initial.get('llm-probed')?.assignment;
  if (!first || JSON.stringify(healthMap(first)) !== JSON.stringify(healthy)) {
    await pushUntil(stream, healthy);
  }
  return stream;
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
  let tg: TestTollgate;
  let client: EdsClient;
  let a: string;
  let b: string;

  beforeEach(async () => {
    flaky = await SwitchableBackend.start();
    steady = await SwitchableBackend.start();
    a = `127.0.0.1:${flaky.port}`;
    b = `127.0.0.1:${steady.port}`;
    tg = await startTestTollgate(probedCluster([flaky.port, steady.port]));
    client = edsClient(tg.tollgate.grpcPort);
  });
  afterEach(async () => {
    client.close();
    await tg.stop();
    await Promise.all([flaky.stop(), steady.stop()]);
  });

  it('pushes UNHEALTHY when a backend fails its probe, and HEALTHY when it recovers', async () => {
    const stream = await subscribedWhenHealthy(client, { [a]: 'HEALTHY@100', [b]: 'HEALTHY@100' });

    flaky.switchTo(false);
    assert.equal(await pushUntil(stream, { [a]: 'UNHEALTHY@100', [b]: 'HEALTHY@100' }), 1);

    flaky.switchTo(true);
    assert.equal(await pushUntil(stream, { [a]: 'HEALTHY@100', [b]: 'HEALTHY@100' }), 1);
  });

  it('pushes nothing while the probe results stay the same', async () => {
    const stream = await subscribedWhenHealthy(client, { [a]: 'HEALTHY@100', [b]: 'HEALTHY@100' });
    const pushes = await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-probed');

    // Every round re-evaluates the cluster; five more rounds of each backend.
    const seen = flaky.requests + steady.requests;
    await waitFor(() => flaky.requests + steady.requests >= seen + 10, 3000);

    assert.equal(await stream.quiet(0), true);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-probed'), pushes);
  });
});
