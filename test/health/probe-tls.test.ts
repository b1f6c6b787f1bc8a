import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { HealthMonitor } from '../../src/health/health-monitor.js';
import { makeTestPki, type TestPki } from '../helpers/certificates.js';
import { LogSink } from '../helpers/log-sink.js';
import {
  compileTestCluster,
  compileTestClusters,
  keyOf,
  loopback,
  nextRound,
} from './health-fixtures.js';
import { ProbeBackend } from './probe-backend.js';

let pki: TestPki;
let server: ProbeBackend;
const cleanup: Array<() => Promise<void>> = [];

before(async () => {
  pki = makeTestPki();
  server = await ProbeBackend.start(undefined, {
    cert: pki.read(pki.serverCert),
    key: pki.read(pki.serverKey),
  });
});

after(() => server.close());

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Starts a monitor over `cluster` and waits for the backend's first round. */
async function startMonitorWaiting(cluster: ReturnType<typeof compileTestCluster>) {
  const logs = new LogSink();
  const monitor = new HealthMonitor({ logger: logs.logger, random: () => 0 });
  const round = nextRound(monitor, keyOf(server.port));
  await monitor.prepareOrThrow([cluster])();
  monitor.start();
  cleanup.push(() => monitor.stop());
  return { monitor, round: (await round).round };
}

/** The verdict of the first round of the HTTPS backend under these settings. */
async function verdictOf(endpoint: Record<string, unknown>, tls?: Record<string, unknown>) {
  const cluster = compileTestCluster({
    name: 'llm',
    endpoints: [loopback(server.port, { scheme: 'https', ...endpoint })],
    checks: { ...(tls ? { tls } : {}), timeout: '2s', inference_probe: { model: 'm' } },
  });
  return (await startMonitorWaiting(cluster)).round.verdict;
}

describe('probes of https endpoints', () => {
  it('verifies the backend against ca_file and probes it', async () => {
    const verdict = await verdictOf({}, { ca_file: pki.caCert });

    assert.equal(verdict.status, 'HEALTHY', JSON.stringify(verdict));
    assert.equal(server.requests.at(-1)?.path, '/v1/completions');
  });

  const refused: Array<{ what: string; serverName?: string; detail: RegExp }> = [
    { what: 'a certificate no trusted CA signed', detail: /certificate|self[- ]signed/i },
    {
      what: 'a server name the certificate does not cover',
      serverName: 'gpu.internal',
      detail: /altname|does not match|Hostname\/IP/i,
    },
  ];

  for (const { what, serverName, detail } of refused) {
    it(`is UNHEALTHY for ${what}, with the TLS reason`, async () => {
      const tls = serverName ? { ca_file: pki.caCert, server_name: serverName } : undefined;

      const verdict = await verdictOf({}, tls);

      assert.equal(verdict.status, 'UNHEALTHY');
      assert.match(verdict.reasons[0]?.detail ?? '', detail);
    });
  }

  it('names the backend by tls.server_name when the certificate covers it', async () => {
    const verdict = await verdictOf({}, { ca_file: pki.caCert, server_name: 'localhost' });

    assert.equal(verdict.status, 'HEALTHY', JSON.stringify(verdict));
  });

  it('uses the endpoint hostname as TLS name and Host header', async () => {
    const verdict = await verdictOf({ hostname: 'localhost' }, { ca_file: pki.caCert });

    assert.equal(verdict.status, 'HEALTHY', JSON.stringify(verdict));
    assert.equal(server.requests.at(-1)?.headers.host, 'localhost');
  });

  it('skips verification with insecure_skip_verify', async () => {
    const verdict = await verdictOf({}, { insecure_skip_verify: true });

    assert.equal(verdict.status, 'HEALTHY', JSON.stringify(verdict));
  });

  it('fails the handshake, not tollgate, when ca_file is not PEM', async () => {
    const junk = path.join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');

    const verdict = await verdictOf({}, { ca_file: junk });

    assert.equal(verdict.status, 'UNHEALTHY');
    assert.match(verdict.reasons[0]?.detail ?? '', /^(transport|connect): /);
  });
});

describe('tls.ca_file at start-up and reload', () => {
  it('probes with the rotated bundle after a reload that names the same file', async () => {
    const bundle = path.join(pki.dir, 'rotating-ca.pem');
    writeFileSync(bundle, pki.read(path.join(pki.dir, 'rogue-ca.crt')));
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(server.port, { scheme: 'https' })],
      checks: {
        interval: '50ms',
        timeout: '2s',
        tls: { ca_file: bundle },
        inference_probe: { model: 'm' },
      },
    });
    const { monitor, round } = await startMonitorWaiting(cluster);
    assert.equal(round.verdict.status, 'UNHEALTHY', 'the wrong CA signed nothing here');

    writeFileSync(bundle, pki.read(pki.caCert));
    await monitor.prepareOrThrow([cluster])();
    const after = await nextRound(monitor, keyOf(server.port));

    assert.equal(after.round.verdict.status, 'HEALTHY', JSON.stringify(after.round.verdict));
  });

  it('refuses a cluster set whose ca_file cannot be read, with the key path', async () => {
    const logs = new LogSink();
    const monitor = new HealthMonitor({ logger: logs.logger });
    const clusters = compileTestClusters([
      { name: 'a', endpoints: [loopback(1)] },
      {
        name: 'b',
        endpoints: [loopback(2, { scheme: 'https' })],
        checks: { tls: { ca_file: '/nonexistent/ca.pem' }, inference_probe: { model: 'm' } },
      },
    ]);

    const prepared = monitor.prepare(clusters);

    assert.equal(prepared.ok, false);
    assert.deepEqual(!prepared.ok && prepared.problems, [
      {
        path: 'clusters.1.checks.tls.ca_file',
        message: 'cannot read /nonexistent/ca.pem (ENOENT); fix the path or remove ca_file',
      },
    ]);
    assert.throws(() => monitor.prepareOrThrow(clusters), /clusters\.1\.checks\.tls\.ca_file/);
    assert.deepEqual(monitor.allEvaluations(), [], 'nothing was applied');
  });
});
