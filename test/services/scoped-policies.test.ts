import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import { replyKind } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { checkRequest, extAuthzClient } from '../helpers/ext-authz-client.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

const DAY = '{period: daily, limit: 100000000}';
const PRICE = (input: number) =>
  `{pricing: [{model_pattern: gpt-4o-mini, input_cost_per_million: ${input}, ` +
  'output_cost_per_million: 0}]}';

/**
 * Four scopes that each resolve differently: payments:api has its own breaker
 * and timeout, payments its own budget default, prices and timeout, platform
 * exports a budget and search (unconfigured) falls through to the globals.
 */
function scopedYaml(store: string): string {
  return `
budgets:
  enabled: true
  store: {backend: embedded, path: ${store}}
  tenants:
    default: ${DAY}
circuit_breakers:
  upstreams:
    llm: {failure_threshold: 5}
cost_attribution: ${PRICE(1)}
namespaces:
  payments:
    budgets: {tenants: {default: ${DAY}}}
    cost_attribution: ${PRICE(10)}
    timeouts: {upstream_seconds: 45}
    services:
      api:
        circuit_breakers: {upstreams: {llm: {failure_threshold: 2}}}
        timeouts: {upstream_seconds: 1.5}
  platform:
    budgets: {tenants: {shared: {period: daily, limit: 100000000, export: true}}}
`;
}

interface Request {
  namespace?: string;
  service?: string;
  tenant?: string;
  /** The upstream's status; 200 by default. */
  status?: number;
  /** Prompt tokens the response reports. */
  prompt?: number;
}

interface Played {
  headers: ProcessingResponse | undefined;
  body: ProcessingResponse | undefined;
  last: ProcessingResponse | undefined;
  answered: number | undefined;
}

const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: 10,
});

function scopeHeaders({ namespace, service, tenant }: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  if (namespace) headers['x-tollgate-namespace'] = namespace;
  if (service) headers['x-tollgate-service'] = service;
  if (tenant) headers['x-tenant-id'] = tenant;
  return headers;
}

/** One whole exchange to upstream `llm`, as Envoy plays it. */
async function play(gate: TestTollgate, request: Request = {}): Promise<Played> {
  const stream = gate.stream();
  const attributes = { 'xds.cluster_name': 'llm' };
  const headers = await stream.send(requestHeaders({ headers: scopeHeaders(request), attributes }));
  if (replyKind(headers) === 'immediate_response') {
    await stream.halfClose();
    const answered = headers?.immediate_response?.status.code;
    return { headers, body: undefined, last: undefined, answered };
  }

  const body = await stream.send(requestBody(CHAT, true));
  const prompt = request.prompt ?? 1000;
  await stream.send(responseHeaders(request.status ?? 200));
  const usage = { prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt };
  const json = JSON.stringify({ model: 'gpt-4o-mini', choices: [], usage });
  const last = await stream.send(responseBody(json, true));
  assert.equal((await stream.halfClose()).code, status.OK);
  return { headers, body, last, answered: undefined };
}

function setHeader(reply: ProcessingResponse | undefined, name: string): string | undefined {
  const set = reply?.request_headers?.response?.header_mutation?.set_headers ?? [];
  const found = set.find((option) => option.header.key === name);
  return found && Buffer.from(found.header.raw_value).toString();
}

function costOf(reply: ProcessingResponse | undefined): number {
  const outer = reply?.dynamic_metadata?.fields?.['envoy.filters.http.ext_proc'];
  const fields = outer?.structValue?.fields?.tollgate?.structValue?.fields;
  return Number(fields?.cost?.stringValue);
}

async function used(gate: TestTollgate, key: string): Promise<number> {
  const { status: code, text } = await gate.admin(`/budgets/${encodeURIComponent(key)}`);
  assert.equal(code, 200, text);
  const body = JSON.parse(text) as { budgeted: boolean; used?: number; key: string };
  assert.equal(body.key, key);
  return body.used ?? 0;
}

describe('scoped policies on live ext_proc streams', () => {
  let folder: string;
  let gate: TestTollgate | undefined;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'tollgate-scopes-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));
  afterEach(async () => {
    await gate?.stop();
    gate = undefined;
  });

  async function start(): Promise<TestTollgate> {
    const store = path.join(folder, `budgets-${Math.random().toString(16).slice(2)}.db`);
    gate = await startTestTollgate(scopedYaml(store));
    return gate;
  }

  it("opens a service's own breaker, leaving namespace and global traffic alone", async () => {
    const tg = await start();
    const api = { namespace: 'payments', service: 'api' };

    await play(tg, { ...api, status: 500 });
    await play(tg, { ...api, status: 500 });

    assert.equal((await play(tg, api)).answered, 503, 'payments:api is open after 2 failures');
    assert.equal((await play(tg, { namespace: 'payments' })).answered, undefined);
    assert.equal((await play(tg, { namespace: 'payments', service: 'web' })).answered, undefined);
    assert.equal((await play(tg)).answered, undefined);
    assert.equal(tg.tollgate.breakers.find('payments:api:llm')?.state().kind, 'open');
    assert.equal(tg.tollgate.breakers.find('llm')?.snapshot().consecutiveFailures, 0);
  });

  it("counts a namespace's budget apart from the global one", async () => {
    const tg = await start();

    await play(tg, { namespace: 'payments', tenant: 'bob', prompt: 700 });
    await play(tg, { namespace: 'payments', service: 'api', tenant: 'bob', prompt: 50 });
    await play(tg, { tenant: 'bob', prompt: 300 });
    await play(tg, { namespace: 'search', tenant: 'bob', prompt: 5 });

    assert.equal(await used(tg, 'payments:bob'), 750);
    assert.equal(await used(tg, 'bob'), 305, 'an unconfigured namespace charges the global');
  });

  it('charges an exported budget on one counter from every scope', async () => {
    const tg = await start();

    await play(tg, { namespace: 'platform', tenant: 'shared', prompt: 1 });
    await play(tg, { namespace: 'payments', service: 'api', tenant: 'shared', prompt: 10 });
    await play(tg, { tenant: 'shared', prompt: 100 });

    assert.equal(await used(tg, 'platform:shared'), 111);
    assert.equal(await used(tg, 'shared'), 0);
    const listed = JSON.parse((await tg.admin('/budgets')).text) as Array<{ key: string }>;
    assert.deepEqual(
      listed.map((status) => status.key),
      ['platform:shared'],
    );
  });

  it("prices usage with the scope's price list", async () => {
    const tg = await start();

    const global = await play(tg, { prompt: 1_000_000 });
    const payments = await play(tg, { namespace: 'payments', service: 'api', prompt: 1_000_000 });

    assert.equal(costOf(global.last), 1);
    assert.equal(costOf(payments.last), 10);
  });

  it("sets the scope's timeout on the upstream request, and none without one", async () => {
    const tg = await start();
    const timeout = async (request: Request) =>
      setHeader((await play(tg, request)).headers, 'x-envoy-upstream-rq-timeout-ms');

    assert.equal(await timeout({ namespace: 'payments', service: 'api' }), '1500');
    assert.equal(await timeout({ namespace: 'payments', service: 'web' }), '45000');
    assert.equal(await timeout({ namespace: 'search' }), undefined);
    assert.equal(await timeout({}), undefined);
  });

  it('answers ext_authz Check from the same scopes', async () => {
    const tg = await start();
    const authz = extAuthzClient(tg.tollgate.grpcPort);
    const check = (request: Request) =>
      authz.check(
        checkRequest({
          headers: scopeHeaders(request),
          contextExtensions: { 'xds.cluster_name': 'llm' },
        }),
      );
    try {
      await tg.admin('/breakers/payments:api:llm/open', 'POST');

      const api = await check({ namespace: 'payments', service: 'api', tenant: 'bob' });
      assert.equal(api.denied_response?.status.code, 503);

      const web = await check({ namespace: 'payments', service: 'web', tenant: 'bob' });
      const headers = Object.fromEntries(
        (web.ok_response?.headers ?? []).map(({ header }) => [header.key, header.value]),
      );
      assert.equal(headers['x-envoy-upstream-rq-timeout-ms'], '45000');
      const remaining = Number(headers['x-tollgate-budget-remaining']);
      assert.ok(remaining > 0 && remaining < 100_000_000);
    } finally {
      authz.close();
    }
  });

  it('shows on /status how each policy resolves from a scope', async () => {
    const tg = await start();

    const { text } = await tg.admin('/status?namespace=payments&service=api');
    const body = JSON.parse(text);

    assert.deepEqual(body.scope, { kind: 'service', namespace: 'payments', service: 'api' });
    assert.deepEqual(body.namespaces, ['payments', 'platform']);
    assert.deepEqual(body.resolution, {
      breakers: { llm: { id: 'payments:api:llm', step: 'service' } },
      budgets: {
        default: { id: 'payments:default', step: 'namespace' },
        shared: { id: 'platform:shared', step: 'exported' },
      },
      pricing: { pricing: { id: 'payments:pricing', step: 'namespace' } },
      timeouts: { timeouts: { id: 'payments:api:timeouts', step: 'service' } },
    });

    const global = JSON.parse((await tg.admin('/status?namespace=search')).text);
    assert.deepEqual(global.resolution.timeouts, { timeouts: null });
    assert.deepEqual(global.resolution.breakers, { llm: { id: 'llm', step: 'global' } });
    const plain = JSON.parse((await tg.admin('/status')).text);
    assert.equal(plain.resolution, undefined);
    assert.ok(
      plain.breakers.some((breaker: { name: string }) => breaker.name === 'payments:api:llm'),
    );
  });

  it('answers 400 to /status with a service but no namespace, or a bad name', async () => {
    const tg = await start();

    for (const query of ['service=api', 'namespace=a:b', 'namespace=', 'namespace=a&service=b:c']) {
      const { status: code, text } = await tg.admin(`/status?${query}`);
      assert.equal(code, 400, `${query}: ${text}`);
    }
  });
});
