import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import {
  MASK,
  type ProbeClient,
  type ProbeRequest,
  type ProbeResult,
} from '../../src/health/probe-client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { clientFor } from './health-fixtures.js';
import {
  COMPLETION,
  ProbeBackend,
  refusedPort,
  sendJson,
  startRawBackend,
} from './probe-backend.js';

const GET: ProbeRequest = { method: 'GET', path: '/v1/models', timeoutMs: 300 };

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function track<T extends { close(): Promise<void> }>(closable: T): T {
  cleanup.push(() => closable.close());
  return closable;
}

function client(port: number, options: Parameters<typeof clientFor>[1] = {}): ProbeClient {
  return track(clientFor(port, options));
}

function assertFailure(result: ProbeResult, kind: string, detail: RegExp) {
  assert.equal(result.ok, false, 'expected a failed probe');
  if (result.ok) return;
  assert.equal(result.kind, kind, result.detail);
  assert.match(result.detail, detail);
}

describe('ProbeClient timeout', () => {
  it('bounds a backend that accepts the connection and never answers', async () => {
    const raw = track(await startRawBackend(() => undefined));

    const result = await client(raw.port).send(GET);

    assertFailure(result, 'timeout', /no complete answer within 300 ms/);
    assert.ok(result.latencyMs >= 290 && result.latencyMs < 1000, `took ${result.latencyMs} ms`);
  });

  it('bounds a backend that sends the headers and then stalls the body', async () => {
    const server = track(
      await ProbeBackend.start((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"choices":');
      }),
    );

    const result = await client(server.port).send(GET);

    assertFailure(result, 'timeout', /within 300 ms/);
  });

  it('bounds a body that trickles in under the cap for longer than the timeout', async () => {
    const server = track(
      await ProbeBackend.start((_request, response) => {
        response.writeHead(200);
        const drip = setInterval(() => response.write(' '), 20);
        response.on('close', () => clearInterval(drip));
      }),
    );

    const result = await client(server.port).send(GET);

    assertFailure(result, 'timeout', /within 300 ms/);
  });

  it('stops reading an endless body at the body cap, long before the timeout', async () => {
    const server = track(
      await ProbeBackend.start((_request, response) => {
        response.writeHead(200);
        const flood = () => {
          while (response.write(Buffer.alloc(16 * 1024, 'x')));
        };
        response.on('drain', flood);
        flood();
      }),
    );

    const result = await client(server.port, { maxBodyBytes: 1024 }).send({
      ...GET,
      timeoutMs: 5000,
    });

    assertFailure(result, 'body_too_large', /body over 1024 bytes/);
    assert.ok(result.latencyMs < 2000, `took ${result.latencyMs} ms`);
  });

  it('runs on the injected clock, so a fake clock decides when it fires', async () => {
    const clock = new FakeClock();
    const raw = track(await startRawBackend(() => undefined));

    let settled: ProbeResult | undefined;
    const pending = client(raw.port, { clock })
      .send({ ...GET, timeoutMs: 30_000 })
      .then((result) => (settled = result));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(settled, undefined, 'no real timer ended it');

    clock.advance(30_000);
    assertFailure(await pending, 'timeout', /within 30000 ms/);
  });

  it('answers the next request after a timeout, on a fresh connection', async () => {
    let calls = 0;
    const server = track(
      await ProbeBackend.start((_request, response) => {
        calls += 1;
        if (calls > 1) sendJson(response, 200, COMPLETION);
      }),
    );
    const probeClient = client(server.port);

    const first = await probeClient.send(GET);
    const second = await probeClient.send(GET);

    assertFailure(first, 'timeout', /within/);
    assert.equal(second.ok && second.status, 200);
  });
});

describe('ProbeClient failures', () => {
  it('reports a refused connection as connect', async () => {
    const result = await client(await refusedPort()).send(GET);

    assertFailure(result, 'connect', /ECONNREFUSED/);
  });

  it('reports a backend that does not speak HTTP as transport', async () => {
    const banner = 'SSH-2.0-OpenSSH_9.6\r\n\r\n';
    const raw = track(await startRawBackend((socket) => socket.end(banner)));

    const result = await client(raw.port).send(GET);

    assertFailure(result, 'transport', /HTTP/);
  });

  it('reports a connection cut in the middle of the body as transport', async () => {
    const server = track(
      await ProbeBackend.start((_request, response) => {
        response.writeHead(200, { 'content-length': '100' });
        response.write('{"choi', () => response.socket?.destroy());
      }),
    );

    const result = await client(server.port).send(GET);

    assert.equal(result.ok, false);
    assert.notEqual(!result.ok && result.kind, 'timeout');
  });

  it('reuses one keep-alive connection for consecutive probes', async () => {
    const sockets = new Set<unknown>();
    const server = track(
      await ProbeBackend.start((_request, response) => {
        sockets.add(response.socket);
        sendJson(response, 200, COMPLETION);
      }),
    );
    const probeClient = client(server.port);

    for (let i = 0; i < 3; i++) await probeClient.send(GET);

    assert.equal(server.requests.length, 3);
    assert.equal(sockets.size, 1);
  });
});

describe('ProbeClient and the probe headers', () => {
  const key = 'sk-probe-secret-9f8e7d';

  it('masks its header values where an answer repeats them, body and headers', async () => {
    const server = track(
      await ProbeBackend.start((request, response) => {
        const echoed = String(request.headers.authorization);
        response.setHeader('x-echo', echoed);
        sendJson(response, 200, { choices: echoed, again: key, id: 'short' });
      }),
    );
    const headers = { authorization: `Bearer ${key}`, 'x-team': 'short' };

    const result = await client(server.port, { headers }).send(GET);

    assert.ok(result.ok);
    assert.equal(server.requests[0]?.headers.authorization, `Bearer ${key}`);
    assert.deepEqual(JSON.parse(result.body.toString()), {
      choices: MASK,
      again: MASK,
      id: 'short',
    });
    assert.equal(result.headers['x-echo'], MASK);
  });
});
