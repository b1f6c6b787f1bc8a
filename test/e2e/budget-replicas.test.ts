import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { EnvoyStream, extProcClient, replyKind } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TollgateProcess } from '../helpers/tollgate-process.js';

const EPHEMERAL = ['--grpc-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'];

/** `max_tokens` is the whole estimate's output part; the prompt adds a few tokens. */
const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: 1000,
});

async function replicaConfig(redisUrl: string, limit: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-replicas-'));
  const file = path.join(dir, 'tollgate.yaml');
  await writeFile(
    file,
    `logging: {level: info}
budgets:
  enabled: true
  store: {backend: redis, url: "${redisUrl}", key_prefix: "replicas-${process.pid}-${limit}:"}
  tenants:
    shared: {period: daily, limit: ${limit}}
`,
  );
  return file;
}

/** Request headers and body; true when tollgate admitted the request. */
async function admitted(stream: EnvoyStream): Promise<boolean> {
  await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'shared' } }));
  const reply = await stream.send(requestBody(CHAT, true));
  return replyKind(reply) === 'request_body';
}

describe('two tollgate processes sharing one Redis', () => {
  let redis: RedisServer | undefined;
  const processes: TollgateProcess[] = [];

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const tollgate of processes) tollgate.kill('SIGKILL');
    await redis?.stop();
  });

  async function replicas(limit: number): Promise<[TollgateProcess, TollgateProcess]> {
    const file = await replicaConfig(redis!.url, limit);
    const pair = await Promise.all(
      [0, 1].map(() => TollgateProcess.start(['--config', file, ...EPHEMERAL])),
    );
    processes.push(...pair);
    return pair as [TollgateProcess, TollgateProcess];
  }

  it('admit exactly the room of one budget between them', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    // Each request reserves a little over 1000 tokens: room for exactly 10.
    const [one, two] = await replicas(10_500);
    const clients = [extProcClient(one.grpcPort), extProcClient(two.grpcPort)];
    const streams = Array.from({ length: 200 }, (_, i) => new EnvoyStream(clients[i % 2]!));

    const results = await Promise.all(streams.map(admitted));
    await Promise.all(streams.map((stream) => stream.cancel()));
    clients.forEach((client) => client.close());

    assert.equal(results.filter(Boolean).length, 10);
  });

  it('agree on usage: what one settles, the other reports and enforces', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    const [one, two] = await replicas(2000);
    const client = extProcClient(one.grpcPort);
    const stream = new EnvoyStream(client);
    assert.ok(await admitted(stream));
    await stream.send(responseHeaders(200));
    const usage = { prompt_tokens: 1500, completion_tokens: 400, total_tokens: 1900 };
    await stream.send(responseBody(JSON.stringify({ model: 'gpt-4o-mini', usage }), true));
    await stream.halfClose();
    client.close();

    const status = JSON.parse((await two.admin('/budgets/shared')).text);
    assert.deepEqual([status.used, status.reserved, status.remaining], [1900, 0, 100]);

    const other = extProcClient(two.grpcPort);
    const refused = new EnvoyStream(other);
    assert.equal(await admitted(refused), false);
    await refused.cancel();
    other.close();
  });
});
