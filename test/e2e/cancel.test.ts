import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ProcessingRequest } from '../../src/services/ext-proc/messages.js';
import { heldPermits } from '../helpers/breaker-permits.js';
import { EnvoyStream, extProcClient } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
  trailers,
} from '../helpers/envoy-messages.js';
import { sampleValue } from '../helpers/metrics.js';
import { ResettableStreams } from '../helpers/resettable-stream.js';
import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess } from '../helpers/tollgate-process.js';
import { waitFor } from '../helpers/wait.js';

const STREAMS = 30;
const TENANT = { 'x-tenant-id': 'cancels' };
const HEADERS = requestHeaders({ attributes: { 'xds.cluster_name': 'llm' }, headers: TENANT });
const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';
const WHOLE_REQUEST = [HEADERS, requestBody(CHAT, true)];

/** What each stream sends before it is reset; `pending` is posted without waiting. */
const PHASES: Array<{ name: string; sent: ProcessingRequest[]; pending?: ProcessingRequest }> = [
  { name: 'before any message', sent: [] },
  { name: 'after request headers', sent: [HEADERS] },
  { name: 'mid request body', sent: [HEADERS, requestBody('{"mo', false)] },
  { name: 'after the whole request', sent: WHOLE_REQUEST },
  {
    name: 'after request trailers',
    sent: [HEADERS, requestBody(CHAT, false), trailers('request', { 'x-checksum': 'a' })],
  },
  { name: 'after response headers', sent: [...WHOLE_REQUEST, responseHeaders(200)] },
  {
    name: 'mid response body',
    sent: [...WHOLE_REQUEST, responseHeaders(200), responseBody('{"id":', false)],
  },
  {
    name: 'after response trailers',
    sent: [...WHOLE_REQUEST, responseHeaders(200), trailers('response', { 'grpc-status': '0' })],
  },
  {
    name: 'while the reply to the request body waits on the budget',
    sent: [HEADERS],
    pending: requestBody(CHAT, true),
  },
];

describe('streams reset by a client in another process', () => {
  let temp: TempDir;
  let tollgate: TollgateProcess;

  before(async () => {
    temp = TempDir.create('tollgate-cancel-');
    const config = temp.write(
      'tollgate.yaml',
      `budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  decide_at: body
  tenants:
    cancels: {period: daily, limit: 100000000}
`,
    );
    tollgate = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
  });
  after(async () => {
    tollgate.kill('SIGTERM');
    await tollgate.exited;
    temp.remove();
  });

  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleValue((await tollgate.admin('/metrics')).text, name, labels) ?? 0;
  const active = () => metric('tollgate_extproc_active_streams');
  const ended = (end: string) => metric('tollgate_extproc_streams_total', { end });

  for (const { name, sent, pending } of PHASES) {
    it(`counts ${STREAMS} streams reset ${name} as cancelled, holding no permit`, async () => {
      const before = await ended('cancelled');
      const streams = new ResettableStreams(tollgate.grpcPort);

      const opened = await Promise.all(
        Array.from({ length: STREAMS }, async () => {
          const stream = streams.stream();
          for (const message of sent) assert.ok(await stream.send(message), 'answered');
          return stream;
        }),
      );
      await waitFor(async () => (await active()) === STREAMS, 5000);
      await Promise.all(
        opened.map(async (stream) => {
          if (pending) stream.post(pending);
          await stream.reset();
        }),
      );
      streams.close();

      await waitFor(async () => (await active()) === 0, 5000);
      const budget = JSON.parse((await tollgate.admin('/budgets/cancels')).text);
      assert.equal(await ended('cancelled'), before + STREAMS);
      assert.equal(await heldPermits(tollgate), 0);
      assert.equal(budget.reserved, 0);
    });
  }

  it('ends grpc-js cancels (half-close, then reset) normally, holding no permit', async () => {
    // grpc-js writes END_STREAM and the reset a write later; tollgate may have
    // answered the half-close by then, which makes the stream half_closed.
    const before = (await ended('cancelled')) + (await ended('half_closed'));
    const failures = (await ended('failed')) + (await ended('protocol_error'));
    const client = extProcClient(tollgate.grpcPort);

    await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const stream = new EnvoyStream(client);
        await stream.send(HEADERS);
        await stream.cancel();
      }),
    );
    client.close();

    await waitFor(async () => (await active()) === 0, 5000);
    const after = (await ended('cancelled')) + (await ended('half_closed'));
    assert.equal(after, before + STREAMS);
    assert.equal((await ended('failed')) + (await ended('protocol_error')), failures);
    assert.equal(await heldPermits(tollgate), 0);
    assert.equal(tollgate.logLines().filter((line) => line.level === 'error').length, 0);
  });
});
