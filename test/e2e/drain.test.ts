import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { EXT_PROC_SERVICE } from '../../src/services/grpc-server.js';
import { EnvoyStream, extProcClient, replyKind } from '../helpers/envoy-client.js';
import { requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { HealthClient } from '../helpers/health-client.js';
import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess } from '../helpers/tollgate-process.js';
import { waitFor } from '../helpers/wait.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

describe('health and draining of the tollgate process', () => {
  let temp: TempDir;
  let config: string;

  before(() => {
    temp = TempDir.create('tollgate-drain-');
    config = temp.write('tollgate.yaml', 'server:\n  drain_timeout_seconds: 1\n');
  });
  after(() => temp.remove());

  const start = () => TollgateProcess.start(['--config', config, ...EPHEMERAL]);
  const logged = (tollgate: TollgateProcess, msg: string) =>
    tollgate.logLines().some((line) => line.msg === msg);

  it('answers grpc.health.v1 Check with SERVING for the server and for ext_proc', async () => {
    const tollgate = await start();
    const health = new HealthClient(tollgate.grpcPort);

    const server = await health.check('');
    const extProc = await health.check(EXT_PROC_SERVICE);
    const unknown = await health.check('no.such.Service').catch((error: { code: number }) => error);
    health.close();
    tollgate.kill('SIGTERM');
    await tollgate.exited;

    assert.equal(server, 'SERVING');
    assert.equal(extProc, 'SERVING');
    assert.equal((unknown as { code: number }).code, status.NOT_FOUND);
  });

  for (const signal of SIGNALS) {
    describe(`on ${signal}`, () => {
      it('reports NOT_SERVING, /readyz 503, lets the stream in flight end, exits 0', async () => {
        const tollgate = await start();
        const health = new HealthClient(tollgate.grpcPort);
        const watches = ['', EXT_PROC_SERVICE].map((service) => health.watch(service));
        const client = extProcClient(tollgate.grpcPort);
        const inFlight = new EnvoyStream(client);
        await inFlight.send(requestHeaders({ endOfStream: true }));
        await waitFor(() => watches.every((watch) => watch.statuses.length === 1));

        tollgate.kill(signal);
        await waitFor(() => logged(tollgate, 'draining'));
        await waitFor(() => watches.every((watch) => watch.statuses.length === 2));
        const ready = await tollgate.admin('/readyz');
        const draining = (await tollgate.status()).draining;
        // Watches are streams too: ended here, so that only the ext_proc stream holds the drain.
        for (const watch of watches) watch.cancel();
        const reply = await inFlight.send(responseHeaders(200, {}, true));
        const end = await inFlight.halfClose();
        const exit = await tollgate.exited;
        client.close();
        health.close();

        for (const watch of watches) assert.deepEqual(watch.statuses, ['SERVING', 'NOT_SERVING']);
        assert.equal(ready.status, 503);
        assert.equal(draining, true);
        assert.equal(replyKind(reply), 'response_headers');
        assert.equal(end.code, status.OK);
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.ok(logged(tollgate, 'all streams finished; exiting'));
      });

      it('cuts a stream still open when the drain timeout runs out, and exits 0', async () => {
        const tollgate = await start();
        const client = extProcClient(tollgate.grpcPort);
        const held = new EnvoyStream(client);
        await held.send(requestHeaders());

        const signalled = Date.now();
        tollgate.kill(signal);
        const exit = await tollgate.exited;
        const waitedMs = Date.now() - signalled;
        const end = await held.status;
        client.close();

        assert.deepEqual(exit, { code: 0, signal: null });
        assert.notEqual(end.code, status.OK);
        assert.ok(waitedMs >= 900, `exited after ${waitedMs} ms, before the 1 s drain timeout`);
        assert.ok(logged(tollgate, 'drain timeout reached; open streams were cut'));
        assert.ok(!logged(tollgate, 'all streams finished; exiting'));
      });
    });
  }
});
