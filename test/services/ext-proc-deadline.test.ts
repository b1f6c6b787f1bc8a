import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { replyKind, type EnvoyStream } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { checkRequest, extAuthzClient } from '../helpers/ext-authz-client.js';
import { metricValue } from '../helpers/metrics.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Envoy's default ext_proc message_timeout: every answer must beat it. */
const MESSAGE_TIMEOUT_MS = 200;
const DEADLINE_MS = 100;
const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":5}';
const COMPLETION = JSON.stringify({
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});
const SKIP = 'redis-server is not installed: the deadline tests were skipped';

let prefixes = 0;

/** A tollgate whose budgets live in `redis`, with a short decision deadline. */
function start(redis: RedisServer, failMode: string, commandTimeoutMs = 2000) {
  return startTestTollgate(`server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
  drain_timeout_seconds: 1
  decision_deadline_ms: ${DEADLINE_MS}
budgets:
  enabled: true
  on_store_error: ${failMode}
  store:
    backend: redis
    url: ${redis.url}
    key_prefix: "deadline${prefixes++}:"
    command_timeout_ms: ${commandTimeoutMs}
  tenants:
    acme: {period: daily, limit: 1000000}
`);
}

/** Sends a message and measures how long its reply took. */
async function timed(stream: EnvoyStream, message: Parameters<EnvoyStream['send']>[0]) {
  const started = performance.now();
  const reply = await stream.send(message);
  return { reply, ms: performance.now() - started };
}

async function budget(gate: TestTollgate): Promise<{ used: number; reserved: number }> {
  const { status, text } = await gate.admin('/budgets/acme');
  assert.equal(status, 200, text);
  return JSON.parse(text) as { used: number; reserved: number };
}

/** One whole exchange, while the store answers. */
async function exchange(gate: TestTollgate): Promise<void> {
  const stream = gate.stream();
  await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));
  assert.equal(replyKind(await stream.send(requestBody(CHAT, true))), 'request_body');
  await stream.send(responseHeaders(200));
  await stream.send(responseBody(COMPLETION, true));
  await stream.halfClose();
}

describe('the decision deadline with a frozen Redis (SIGSTOP)', () => {
  let redis: RedisServer | undefined;

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => redis?.stop());

  it('goes on unreserved at the deadline (fail_open); releases the late reservation', async (t) => {
    if (!redis) return t.skip(SKIP);
    const gate = await start(redis, 'fail_open');
    try {
      await exchange(gate);
      const before = await budget(gate);
      const stream = gate.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));

      redis.pause();
      const { reply, ms } = await timed(stream, requestBody(CHAT, true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      redis.resume();

      assert.equal(replyKind(reply), 'request_body');
      assert.equal(reply?.request_body?.response?.header_mutation, undefined, 'no remaining');
      assert.ok(ms >= DEADLINE_MS - 5 && ms < MESSAGE_TIMEOUT_MS, `answered in ${ms} ms`);
      assert.equal(await metricValue(gate, 'tollgate_budget_fail_open_total'), 1);
      const exceeded = { operation: 'reserve' };
      assert.equal(
        await metricValue(gate, 'tollgate_decision_deadline_exceeded_total', exceeded),
        1,
      );
      await waitFor(async () => (await budget(gate)).reserved === 0, 3000);

      await stream.send(responseHeaders(200));
      await stream.send(responseBody(COMPLETION, true));
      await stream.halfClose();
      assert.equal((await budget(gate)).used, before.used, 'admitted unchecked: not charged');
      assert.equal(gate.logs.find('did not answer within server.decision_deadline_ms').length, 1);
    } finally {
      redis.resume();
      await gate.stop();
    }
  });

  it('answers 503 at the deadline (fail_closed) and releases the late reservation', async (t) => {
    if (!redis) return t.skip(SKIP);
    const gate = await start(redis, 'fail_closed');
    try {
      await exchange(gate);
      const stream = gate.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));

      redis.pause();
      const { reply, ms } = await timed(stream, requestBody(CHAT, true));
      const end = await stream.status;
      await new Promise((resolve) => setTimeout(resolve, 300));
      redis.resume();

      assert.equal(reply?.immediate_response?.status.code, 503);
      assert.equal(reply?.immediate_response?.details, 'tollgate_budget_unavailable');
      assert.ok(ms >= DEADLINE_MS - 5 && ms < MESSAGE_TIMEOUT_MS, `answered in ${ms} ms`);
      assert.equal(end.code, 0);
      await waitFor(async () => (await budget(gate)).reserved === 0, 3000);
    } finally {
      redis.resume();
      await gate.stop();
    }
  });

  it('answers the last chunk at the deadline and settles when Redis is back', async (t) => {
    if (!redis) return t.skip(SKIP);
    const gate = await start(redis, 'fail_open');
    try {
      const used = (await budget(gate)).used;
      const stream = gate.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));
      await stream.send(requestBody(CHAT, true));
      await stream.send(responseHeaders(200));

      redis.pause();
      const { reply, ms } = await timed(stream, responseBody(COMPLETION, true));
      redis.resume();
      await stream.halfClose();

      assert.equal(replyKind(reply), 'response_body');
      assert.ok(ms < MESSAGE_TIMEOUT_MS, `answered in ${ms} ms`);
      await waitFor(async () => (await budget(gate)).used === used + 10, 3000);
      assert.equal((await budget(gate)).reserved, 0);
    } finally {
      redis.resume();
      await gate.stop();
    }
  });

  it('drops a reservation Redis made after the client command timed out', async (t) => {
    if (!redis) return t.skip(SKIP);
    const gate = await start(redis, 'fail_open', 50);
    try {
      await exchange(gate);
      const stream = gate.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));

      redis.pause();
      const { reply, ms } = await timed(stream, requestBody(CHAT, true));
      await new Promise((resolve) => setTimeout(resolve, 400));
      redis.resume();
      await stream.cancel();

      assert.equal(replyKind(reply), 'request_body');
      assert.ok(ms < MESSAGE_TIMEOUT_MS, `answered in ${ms} ms`);
      await waitFor(async () => (await budget(gate)).reserved === 0, 3000);
    } finally {
      redis.resume();
      await gate.stop();
    }
  });

  it('answers an ext_authz check by the fail mode at the deadline', async (t) => {
    if (!redis) return t.skip(SKIP);
    const gate = await start(redis, 'fail_closed');
    const client = extAuthzClient(gate.tollgate.grpcPort);
    try {
      await client.check(checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }));

      redis.pause();
      const started = performance.now();
      const answer = await client.check(
        checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }),
      );
      const ms = performance.now() - started;
      redis.resume();

      assert.equal(answer.denied_response?.status?.code, 503);
      assert.ok(ms < MESSAGE_TIMEOUT_MS, `answered in ${ms} ms`);
    } finally {
      redis.resume();
      client.close();
      await gate.stop();
    }
  });
});
