import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { EnvoyStream, extProcClient, replyKind } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess } from '../helpers/tollgate-process.js';
import { waitFor } from '../helpers/wait.js';

const IN_FLIGHT = 50;
const DRAIN_SECONDS = 5;
const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"drain"}]}';
const COMPLETION = JSON.stringify({
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});
const HEADERS = requestHeaders({
  attributes: { 'xds.cluster_name': 'llm' },
  headers: { 'x-tenant-id': 'drain' },
});

describe(`SIGTERM with ${IN_FLIGHT} streams in flight`, () => {
  let temp: TempDir;
  let config: string;

  before(() => {
    temp = TempDir.create('tollgate-drain-load-');
    config = temp.write(
      'tollgate.yaml',
      `server:
  drain_timeout_seconds: ${DRAIN_SECONDS}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  tenants:
    drain: {period: daily, limit: 100000000}
`,
    );
  });
  after(() => temp.remove());

  it('finishes and settles every stream, refuses new ones, exits 0 within the drain', async () => {
    const tollgate = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
    // Envoy keeps a few connections to its ext_proc cluster; so do these clients.
    const clients = [0, 1, 2].map(() => extProcClient(tollgate.grpcPort));
    const streams = Array.from({ length: IN_FLIGHT }, (_, i) => new EnvoyStream(clients[i % 3]!));
    for (const stream of streams) {
      assert.equal(replyKind(await stream.send(HEADERS)), 'request_headers');
      assert.equal(replyKind(await stream.send(requestBody(CHAT, true))), 'request_body');
    }

    const signalled = Date.now();
    tollgate.kill('SIGTERM');
    await waitFor(() => tollgate.logLines().some((line) => line.msg === 'draining'));

    // New streams: on a connection open before the signal, and on a new one.
    const lateClient = extProcClient(tollgate.grpcPort);
    const refused = [new EnvoyStream(clients[0]!), new EnvoyStream(lateClient)];
    const refusedReplies = await Promise.all(refused.map((stream) => stream.send(HEADERS)));
    const refusedCodes = await Promise.all(
      refused.map(async (stream) => (await stream.status).code),
    );

    // The upstream answers the streams in flight over the next second.
    const finished = await Promise.all(
      streams.map(async (stream, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * 1000) / IN_FLIGHT));
        await stream.send(responseHeaders(200));
        const last = await stream.send(responseBody(COMPLETION, true));
        return { last: replyKind(last), end: (await stream.halfClose()).code };
      }),
    );
    const exit = await tollgate.exited;
    const exitedAfterMs = Date.now() - signalled;
    for (const client of [...clients, lateClient]) client.close();
    process.stderr.write(
      `drain: ${IN_FLIGHT} streams finished, exit 0 ${exitedAfterMs} ms after SIGTERM\n`,
    );

    assert.deepEqual(refusedReplies, [undefined, undefined]);
    assert.deepEqual(refusedCodes, [status.UNAVAILABLE, status.UNAVAILABLE]);
    assert.deepEqual(
      finished,
      streams.map(() => ({ last: 'response_body', end: status.OK })),
    );
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(exitedAfterMs < DRAIN_SECONDS * 1000, `exited ${exitedAfterMs} ms after SIGTERM`);
    assert.ok(tollgate.logLines().some((line) => line.msg === 'all streams finished; exiting'));

    // Every stream was settled before the exit: a new process sees it all.
    const again = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
    try {
      const budget = JSON.parse((await again.admin('/budgets/drain')).text);
      assert.equal(budget.used, IN_FLIGHT * 10);
      assert.equal(budget.reserved, 0);
    } finally {
      again.kill('SIGTERM');
      await again.exited;
    }
  });
});
