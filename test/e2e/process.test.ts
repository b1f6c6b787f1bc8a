import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { extProcClient, EnvoyStream, replyKind } from '../helpers/envoy-client.js';
import { requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { sampleValue } from '../helpers/metrics.js';
import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess } from '../helpers/tollgate-process.js';
import { waitFor } from '../helpers/wait.js';

describe('the tollgate process', () => {
  let temp: TempDir;
  // A copy of config/tollgate.yaml: its budget store is written beside it.
  let bundled: string;
  let files = 0;
  const configFile = (yaml: string) => temp.write(`config-${++files}.yaml`, yaml);

  before(() => {
    temp = TempDir.create('tollgate-e2e-');
    bundled = temp.bundledConfig();
  });
  after(() => temp.remove());

  it('starts with the bundled config and exits 0 on SIGTERM', async () => {
    const tollgate = await TollgateProcess.start(['--config', bundled, ...EPHEMERAL]);

    const health = await tollgate.admin('/healthz');
    const ready = await tollgate.admin('/readyz');
    const metrics = await tollgate.admin('/metrics');
    tollgate.kill('SIGTERM');
    const exit = await tollgate.exited;

    assert.equal(health.status, 200);
    assert.equal(ready.status, 200);
    assert.match(metrics.text, /^tollgate_process_cpu_seconds_total /m);
    assert.equal(
      sampleValue(metrics.text, 'tollgate_breaker_state', {
        breaker: 'llm_backend',
        state: 'closed',
      }),
      1,
    );
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(existsSync(temp.path('data/tollgate-budgets.db')), 'the store sits beside the copy');
  });

  it('exits 1 and lists every problem when the config is invalid', async () => {
    const file = configFile('server:\n  grpc_adress: x\ncircuit_breakers:\n  enabled: 1\n');

    const tollgate = await TollgateProcess.start(['--config', file], { waitForServing: false });
    const exit = await tollgate.exited;

    assert.equal(exit.code, 1);
    const stderr = tollgate.stderr.join('\n');
    assert.match(stderr, /\(2 problems\)/);
    assert.match(stderr, /line 2: server\.grpc_adress: unknown key/);
    assert.match(stderr, /line 4: circuit_breakers\.enabled:/);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const first = await TollgateProcess.start(['--config', bundled, ...EPHEMERAL]);

    // The second has a config of its own: the first holds the bundled one's budget file.
    const own = configFile('');
    const second = await TollgateProcess.start(
      ['--config', own, '--grpc-address', `127.0.0.1:${first.grpcPort}`],
      { waitForServing: false },
    );
    const exit = await second.exited;
    first.kill('SIGTERM');
    await first.exited;

    assert.equal(exit.code, 1);
    assert.match(second.stderr.join('\n'), /cannot listen for gRPC on 127\.0\.0\.1:\d+/);
  });

  it('opens, half-opens and closes a breaker on live traffic, visible on /metrics', async () => {
    const file = configFile(`
circuit_breakers:
  defaults:
    failure_threshold: 3
    success_threshold: 2
    timeout_seconds: 1
    half_open_max_requests: 2
`);
    const tollgate = await TollgateProcess.start(['--config', file, ...EPHEMERAL]);
    const client = extProcClient(tollgate.grpcPort);
    const llm = { attributes: { 'xds.cluster_name': 'llm' } };
    const exchange = async (upstreamStatus: number) => {
      const stream = new EnvoyStream(client);
      const first = await stream.send(requestHeaders(llm));
      if (replyKind(first) === 'request_headers') {
        await stream.send(responseHeaders(upstreamStatus, {}, true));
        await stream.halfClose();
      }
      return first;
    };
    const state = async (name: string) =>
      sampleValue((await tollgate.admin('/metrics')).text, 'tollgate_breaker_state', {
        breaker: 'llm',
        state: name,
      });

    for (let i = 0; i < 3; i++) await exchange(503);
    const rejected = await exchange(200);
    const openState = await state('open');
    await waitFor(async () => (await state('half_open')) === 1, 3000);
    const trials = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const stream = new EnvoyStream(client);
        return { stream, first: await stream.send(requestHeaders(llm)) };
      }),
    );
    const admitted = trials.filter(({ first }) => replyKind(first) === 'request_headers');
    for (const { stream } of admitted) {
      await stream.send(responseHeaders(200, {}, true));
      await stream.halfClose();
    }
    const closedState = await state('closed');
    client.close();
    tollgate.kill('SIGTERM');
    await tollgate.exited;

    assert.equal(rejected?.immediate_response?.status.code, 503);
    assert.equal(openState, 1);
    assert.equal(admitted.length, 2);
    assert.equal(closedState, 1);
  });

  it('drains on SIGTERM: streams in flight finish, new streams are refused, exit 0', async () => {
    const tollgate = await TollgateProcess.start(['--config', bundled, ...EPHEMERAL]);
    const client = extProcClient(tollgate.grpcPort);
    const inFlight = new EnvoyStream(client);
    await inFlight.send(requestHeaders({ endOfStream: true }));

    tollgate.kill('SIGTERM');
    await waitFor(() => tollgate.logLines().some((line) => line.msg === 'draining'));
    const late = new EnvoyStream(extProcClient(tollgate.grpcPort));
    const lateReply = await late.send(requestHeaders());
    const reply = await inFlight.send(responseHeaders(200, {}, true));
    const end = await inFlight.halfClose();
    const exit = await tollgate.exited;
    client.close();

    assert.equal(lateReply, undefined);
    assert.notEqual((await late.status).code, status.OK);
    assert.equal(replyKind(reply), 'response_headers');
    assert.equal(end.code, status.OK);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(tollgate.logLines().some((line) => line.msg === 'all streams finished; exiting'));
  });

  it('never writes authorization, API key or cookie values to its log', async () => {
    const file = configFile('logging:\n  level: trace\n');
    const tollgate = await TollgateProcess.start(['--config', file, ...EPHEMERAL]);
    const client = extProcClient(tollgate.grpcPort);
    const secrets = {
      authorization: 'Bearer sk-planted-secret-1',
      'x-api-key': 'sk-planted-secret-2',
      cookie: 'session=planted-secret-3',
    };

    const stream = new EnvoyStream(client);
    await stream.send(requestHeaders({ headers: secrets }));
    await stream.cancel();
    client.close();
    tollgate.kill('SIGTERM');
    await tollgate.exited;

    const output = [...tollgate.stdout, ...tollgate.stderr].join('\n');
    assert.ok(tollgate.stdout.length > 2, 'expected trace output to inspect');
    assert.doesNotMatch(output, /planted-secret/);
  });
});
