import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parseRequestBody } from '../../src/usage/request/llm-request.js';
import { estimateRequest } from '../../src/usage/request/prompt-estimator.js';
import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import { replyKind, type EnvoyStream } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { metricValue } from '../helpers/metrics.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startTestTollgate, testConfig, type TestTollgate } from '../helpers/tollgate-harness.js';

const CHAT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello to the budget tests.' }],
  max_tokens: 90,
});

/** The estimate tollgate makes for CHAT_BODY, from the same estimator settings. */
function chatEstimate(): number {
  const config = testConfig('');
  const parsed = parseRequestBody(Buffer.from(CHAT_BODY));
  assert.ok(parsed.ok);
  const estimate = estimateRequest(parsed.request, config.usage.estimator);
  return estimate.input + estimate.output;
}

function budgetYaml(store: string, tenants: string, extra = ''): string {
  return `
tenants:
  sources:
    - header: x-tenant-id
    - metadata: {namespace: envoy.filters.http.jwt_authn, path: payload.org}
budgets:
  enabled: true
  store: ${store}
${extra}
  tenants:
${tenants}
`;
}

function completionJson(prompt: number, completion: number): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  });
}

interface Played {
  body: ProcessingResponse | undefined;
  answered: boolean;
}

/** Request headers and body for `tenant`; resolves with the body phase's reply. */
async function sendRequest(stream: EnvoyStream, tenant: string): Promise<Played> {
  const headersReply = await stream.send(requestHeaders({ headers: { 'x-tenant-id': tenant } }));
  assert.equal(replyKind(headersReply), 'request_headers');

  const body = await stream.send(requestBody(CHAT_BODY, true));
  return { body, answered: replyKind(body) === 'immediate_response' };
}

/** A whole exchange whose response reports `prompt` + `completion` tokens. */
async function playChat(
  gate: TestTollgate,
  tenant: string,
  prompt: number,
  completion: number,
): Promise<Played> {
  const stream = gate.stream();
  const played = await sendRequest(stream, tenant);
  if (!played.answered) {
    await stream.send(responseHeaders(200));
    await stream.send(responseBody(completionJson(prompt, completion), true));
  }
  await stream.halfClose();
  return played;
}

function headerOf(reply: ProcessingResponse | undefined, name: string): string | undefined {
  const immediate = reply?.immediate_response?.headers?.set_headers ?? [];
  const common = reply?.request_body?.response?.header_mutation?.set_headers ?? [];
  const found = [...immediate, ...common].find((option) => option.header.key === name);
  return found && Buffer.from(found.header.raw_value).toString();
}

async function budgetStatus(gate: TestTollgate, tenant: string) {
  const { status, text } = await gate.admin(`/budgets/${encodeURIComponent(tenant)}`);
  assert.equal(status, 200, text);
  return JSON.parse(text) as { used: number; reserved: number; remaining: number; limit: number };
}

describe('token budgets on live ext_proc streams (embedded store)', () => {
  let folder: string;
  let store: string;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'tollgate-budget-'));
    store = `{backend: embedded, path: ${path.join(folder, 'budgets.db')}}`;
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('reserves the estimate, tells the upstream what remains, settles actual usage', async () => {
    const yaml = budgetYaml(store, '    acme: {period: daily, limit: 100000}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const played = await playChat(gate, 'acme', 1200, 345);

      assert.equal(played.answered, false);
      const remaining = headerOf(played.body, 'x-tollgate-budget-remaining');
      assert.equal(remaining, String(100000 - chatEstimate()));
      const status = await budgetStatus(gate, 'acme');
      assert.equal(status.used, 1200 + 345);
      assert.equal(status.reserved, 0);
      assert.equal(status.remaining, 100000 - 1545);
    } finally {
      await gate.stop();
    }
  });

  it('answers 429 with retry-after, rate-limit headers and an OpenAI error body', async () => {
    // 12:00 UTC on a day: the daily budget renews in 12 hours.
    const clock = new FakeClock(Date.UTC(2026, 4, 20, 12, 0, 0));
    const gate = await startTestTollgate(
      budgetYaml(store, '    spent: {period: daily, limit: 5000}'),
      {
        clock,
      },
    );
    try {
      await playChat(gate, 'spent', 3000, 2000);
      const refused = await playChat(gate, 'spent', 1, 1);

      assert.equal(refused.answered, true);
      const immediate = refused.body!.immediate_response!;
      assert.equal(immediate.status.code, 429);
      assert.equal(headerOf(refused.body, 'retry-after'), String(12 * 3600));
      assert.equal(headerOf(refused.body, 'x-ratelimit-limit'), '5000');
      assert.equal(headerOf(refused.body, 'x-ratelimit-remaining'), '0');
      const error = JSON.parse(Buffer.from(immediate.body!).toString()).error;
      assert.equal(error.code, 'budget_exhausted');
      assert.match(error.message, /spent/);
      assert.equal((await budgetStatus(gate, 'spent')).used, 5000);
      assert.equal(
        await metricValue(gate, 'tollgate_decisions_total', { decision: 'budget_exhausted' }),
        1,
      );
    } finally {
      await gate.stop();
    }
  });

  it('admits exactly as many of 200 concurrent requests as the budget has room for', async () => {
    const estimate = chatEstimate();
    const tenants = `    crowd: {period: daily, limit: ${estimate * 10}}`;
    const gate = await startTestTollgate(budgetYaml(store, tenants), { clock: new FakeClock() });
    try {
      const streams = Array.from({ length: 200 }, () => gate.stream());
      const played = await Promise.all(streams.map((stream) => sendRequest(stream, 'crowd')));
      await Promise.all(streams.map((stream) => stream.cancel()));

      assert.equal(played.filter((p) => !p.answered).length, 10);
      assert.equal(
        played.filter((p) => p.body?.immediate_response?.status.code === 429).length,
        190,
      );
    } finally {
      await gate.stop();
    }
  });

  it('keeps usage across a restart on the same store file', async () => {
    const yaml = budgetYaml(store, '    durable: {period: monthly, limit: 1000000}');
    const clock = new FakeClock();
    const first = await startTestTollgate(yaml, { clock });
    await playChat(first, 'durable', 700, 77);
    await first.stop();

    const second = await startTestTollgate(yaml, { clock });
    try {
      assert.equal((await budgetStatus(second, 'durable')).used, 777);
    } finally {
      await second.stop();
    }
  });

  it('releases the reservation of a stream cancelled before its response', async () => {
    const yaml = budgetYaml(store, '    quitter: {period: daily, limit: 100000}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const stream = gate.stream();
      await sendRequest(stream, 'quitter');
      assert.equal((await budgetStatus(gate, 'quitter')).reserved, chatEstimate());
      await stream.cancel();

      // No response: the prompt went upstream, so its input estimate is charged, nothing held.
      const status = await waitForStatus(gate, 'quitter', (s) => s.reserved === 0);
      assert.ok(status.used > 0 && status.used < chatEstimate(), JSON.stringify(status));
    } finally {
      await gate.stop();
    }
  });

  it('answers 401 when tenants are required and none is named', async () => {
    const yaml = `tenants: {required: true}\n`;
    const gate = await startTestTollgate(yaml);
    try {
      const stream = gate.stream();
      const reply = await stream.send(requestHeaders());
      assert.equal(reply?.immediate_response?.status.code, 401);
      assert.equal(headerOf(reply, 'x-tollgate-decision'), 'tenant_required');
    } finally {
      await gate.stop();
    }
  });

  it('charges the tenant named by JWT metadata Envoy forwards', async () => {
    const yaml = budgetYaml(store, '    org-9: {period: daily, limit: 100000}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const stream = gate.stream();
      const metadata = { 'envoy.filters.http.jwt_authn': { payload: { org: 'org-9' } } };
      await stream.send(requestHeaders({ metadata }));
      await stream.send(requestBody(CHAT_BODY, true));
      await stream.send(responseHeaders(200));
      await stream.send(responseBody(completionJson(10, 5), true));
      await stream.halfClose();

      assert.equal((await budgetStatus(gate, 'org-9')).used, 15);
    } finally {
      await gate.stop();
    }
  });

  it('decides at the request headers on the default estimate when configured', async () => {
    const yaml =
      budgetYaml(store, '    early: {period: daily, limit: 10}', '  decide_at: headers') +
      'usage:\n  estimate: {default_input_tokens: 6, default_output_tokens: 6}\n';
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const stream = gate.stream();
      const reply = await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'early' } }));
      assert.equal(reply?.immediate_response?.status.code, 429);
    } finally {
      await gate.stop();
    }
  });

  it('still decides when Envoy sends no request body (body mode NONE)', async () => {
    const yaml = budgetYaml(store, '    nobody: {period: daily, limit: 100000}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const stream = gate.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'nobody' } }));
      const reply = await stream.send(responseHeaders(200));
      assert.equal(replyKind(reply), 'response_headers');
      await stream.send(responseBody(completionJson(40, 2), true));
      await stream.halfClose();

      assert.equal((await budgetStatus(gate, 'nobody')).used, 42);
      assert.equal(gate.logs.find('request body never reached tollgate').length, 1);
    } finally {
      await gate.stop();
    }
  });

  it('delivers an alert raised by the last response before it stops', async () => {
    const received: string[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () =>
        setTimeout(() => {
          received.push(body);
          response.end();
        }, 200),
      );
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const { port } = hook.address() as AddressInfo;
    const yaml = budgetYaml(
      store,
      '    last: {period: daily, limit: 1000, alert_thresholds: [0.05]}',
      `  alerts:\n    webhook: {url: "http://127.0.0.1:${port}/alerts"}`,
    );
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      await playChat(gate, 'last', 60, 1);
    } finally {
      await gate.stop();
      hook.close();
    }

    assert.equal(received.length, 1, 'the queued alert was sent during shutdown');
    assert.equal(JSON.parse(received[0]!).tenant, 'last');
  });

  it('refuses admin keys that are not keys; resets only budgets that exist', async () => {
    const gate = await startTestTollgate(budgetYaml(store, '    only: {period: daily, limit: 10}'));
    try {
      for (const key of ['%00', 'x'.repeat(5000), 'tab%09ed', '%1B%5B31m']) {
        assert.equal((await gate.admin(`/budgets/${key}`)).status, 400, key.slice(0, 20));
        assert.equal((await gate.admin(`/budgets/${key}/reset`, 'POST')).status, 400);
      }
      const unknown = await gate.admin('/budgets/nobody/reset', 'POST');
      assert.equal(unknown.status, 404);
      assert.match(unknown.text, /no budget applies to nobody/);
      assert.equal((await gate.admin('/budgets/only/reset', 'POST')).status, 200);
    } finally {
      await gate.stop();
    }
  });

  it('charges, and does not refuse, a response that arrives when the budget is spent', async () => {
    const yaml = budgetYaml(store, '    spent: {period: daily, limit: 50}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      for (const [prompt, completion] of [
        [40, 2],
        [30, 5],
      ] as const) {
        const stream = gate.stream();
        await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'spent' } }));
        const reply = await stream.send(responseHeaders(200));
        assert.equal(replyKind(reply), 'response_headers', 'the upstream has answered already');
        await stream.send(responseBody(completionJson(prompt, completion), true));
        await stream.halfClose();
      }

      assert.equal((await budgetStatus(gate, 'spent')).used, 77);
      const next = await sendRequest(gate.stream(), 'spent');
      assert.equal(next.body?.immediate_response?.status.code, 429, 'later requests are refused');
    } finally {
      await gate.stop();
    }
  });

  it('reserves nothing for a bodiless request and charges what its response reports', async () => {
    const yaml = budgetYaml(store, '    lister: {period: daily, limit: 1500}');
    const gate = await startTestTollgate(yaml, { clock: new FakeClock() });
    try {
      const stream = gate.stream();
      const reply = await stream.send(
        requestHeaders({
          method: 'GET',
          path: '/v1/models',
          headers: { 'x-tenant-id': 'lister' },
          endOfStream: true,
        }),
      );
      assert.equal(replyKind(reply), 'request_headers', 'the default estimate would not fit');
      assert.equal((await budgetStatus(gate, 'lister')).reserved, 0);

      await stream.send(responseHeaders(200));
      await stream.send(responseBody('{"object":"list","data":[]}', true));
      await stream.halfClose();
      const after = await budgetStatus(gate, 'lister');
      assert.deepEqual([after.used, after.reserved], [0, 0]);
    } finally {
      await gate.stop();
    }
  });
});

async function waitForStatus(
  gate: TestTollgate,
  tenant: string,
  done: (status: Awaited<ReturnType<typeof budgetStatus>>) => boolean,
) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const status = await budgetStatus(gate, tenant);
    if (done(status) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('token budgets shared through Redis', () => {
  let redis: RedisServer | undefined;

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => redis?.stop());

  const store = () => `{backend: redis, url: "redis://127.0.0.1:${redis!.port}"}`;

  it('admits exactly the room of the budget across two tollgates', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    const estimate = chatEstimate();
    const yaml = budgetYaml(store(), `    shared: {period: daily, limit: ${estimate * 10}}`);
    const one = await startTestTollgate(yaml);
    const two = await startTestTollgate(yaml);
    try {
      const streams = Array.from({ length: 200 }, (_, i) => (i % 2 ? one : two).stream());
      const played = await Promise.all(streams.map((stream) => sendRequest(stream, 'shared')));
      await Promise.all(streams.map((stream) => stream.cancel()));

      assert.equal(played.filter((p) => !p.answered).length, 10);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('sees on one replica the usage the other settled', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    const yaml = budgetYaml(store(), '    seen: {period: daily, limit: 100000}');
    const one = await startTestTollgate(yaml);
    const two = await startTestTollgate(yaml);
    try {
      await playChat(one, 'seen', 500, 55);
      assert.equal((await budgetStatus(two, 'seen')).used, 555);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('fails closed with a 503 while Redis is down, and recovers without a restart', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    const yaml = budgetYaml(
      store(),
      '    outage: {period: daily, limit: 100000}',
      '  on_store_error: fail_closed',
    );
    const gate = await startTestTollgate(yaml);
    try {
      await redis.stop();
      const refused = await playChat(gate, 'outage', 1, 1);
      assert.equal(refused.body?.immediate_response?.status.code, 503);
      const admin = await gate.admin('/budgets/outage');
      assert.equal(admin.status, 503, 'the admin port says the store is down, not a 500');
      assert.match(admin.text, /budget store \(redis\) failed/);

      await redis.restart();
      await waitForAdmission(gate, 'outage');
    } finally {
      await gate.stop();
    }
  });

  it('fails open while Redis is down when configured, counting each miss', async (t) => {
    if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

    const yaml = budgetYaml(store(), '    open: {period: daily, limit: 100000}');
    const gate = await startTestTollgate(yaml);
    try {
      await redis.stop();
      const played = await playChat(gate, 'open', 1, 1);
      assert.equal(played.answered, false);
      assert.equal(await metricValue(gate, 'tollgate_budget_fail_open_total'), 1);
    } finally {
      await redis.restart();
      await gate.stop();
    }
  });
});

async function waitForAdmission(gate: TestTollgate, tenant: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const played = await playChat(gate, tenant, 1, 1);
    if (!played.answered) return;
    if (Date.now() > deadline) throw new Error('the budget store did not come back within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
