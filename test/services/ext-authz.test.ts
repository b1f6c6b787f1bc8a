import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import type { CheckResponse } from '../../src/services/ext-authz/messages.js';
import { requestBody, requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { checkRequest, extAuthzClient, type AuthzClient } from '../helpers/ext-authz-client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { metricValue } from '../helpers/metrics.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'One short question.' }],
  max_tokens: 20,
});

function headersOf(options: Array<{ header: { key: string; value?: string } }> | undefined) {
  return Object.fromEntries((options ?? []).map(({ header }) => [header.key, header.value]));
}

function metadataOf(response: CheckResponse): Record<string, unknown> {
  const fields = response.dynamic_metadata?.fields ?? {};
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [name, value.stringValue ?? value.numberValue]),
  );
}

describe('ext_authz Check', () => {
  let folder: string;
  let tg: TestTollgate | undefined;
  let client: AuthzClient | undefined;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'tollgate-authz-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));
  afterEach(async () => {
    client?.close();
    await tg?.stop();
  });

  let clock: FakeClock;

  async function start(yaml: string): Promise<AuthzClient> {
    clock = new FakeClock();
    tg = await startTestTollgate(yaml, { clock });
    client = extAuthzClient(tg.tollgate.grpcPort);
    return client;
  }

  function budgets(limit: number, extra = ''): string {
    const store = path.join(folder, `budgets-${Math.random().toString(16).slice(2)}.db`);
    return (
      `budgets:\n  enabled: true\n  store: {backend: embedded, path: ${store}}\n` +
      `  tenants:\n    acme: {period: daily, limit: ${limit}}\n${extra}`
    );
  }

  it('allows, adding the tenant and remaining-budget headers and metadata', async () => {
    const authz = await start(budgets(100_000));

    const response = await authz.check(
      checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }),
    );

    assert.equal(response.status.code, status.OK);
    assert.equal(response.denied_response, undefined);
    const headers = headersOf(response.ok_response?.headers);
    assert.equal(headers['x-tollgate-tenant'], 'acme');
    const remaining = Number(headers['x-tollgate-budget-remaining']);
    assert.ok(remaining > 99_900 && remaining < 100_000, String(remaining));
    const metadata = metadataOf(response);
    assert.deepEqual(metadata, { tenant: 'acme', decision: 'allow', budget_remaining: remaining });
  });

  it('writes header values in `value`, which ext_authz reads, not raw_value', async () => {
    const authz = await start(budgets(100_000));

    const response = await authz.check(checkRequest({ headers: { 'x-tenant-id': 'acme' } }));

    for (const option of response.ok_response?.headers ?? []) {
      assert.ok(option.header.value, option.header.key);
      assert.equal((option.header as { raw_value?: Buffer }).raw_value?.length ?? 0, 0);
    }
  });

  it('checks the budget without reserving it: ext_authz never sees the response', async () => {
    const authz = await start(budgets(100_000));

    for (let i = 0; i < 20; i++) {
      await authz.check(checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }));
    }

    const { text } = await tg!.admin('/budgets/acme');
    const budget = JSON.parse(text) as { used: number; reserved: number };
    assert.deepEqual([budget.used, budget.reserved], [0, 0]);
  });

  it('estimates from the body when Envoy sends it, else from the default estimate', async () => {
    // The default estimate (1024 + 1024 tokens) does not fit; the body's does.
    const authz = await start(budgets(500));

    const withBody = await authz.check(
      checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }),
    );
    const withoutBody = await authz.check(checkRequest({ headers: { 'x-tenant-id': 'acme' } }));

    assert.equal(withBody.status.code, status.OK);
    assert.equal(withoutBody.status.code, status.RESOURCE_EXHAUSTED);
    assert.equal(withoutBody.denied_response?.status.code, 429);
  });

  it('denies an exhausted budget with the same 429 ext_proc answers', async () => {
    const authz = await start(budgets(10));

    const denied = await authz.check(
      checkRequest({ headers: { 'x-tenant-id': 'acme' }, body: CHAT }),
    );
    const stream = tg!.stream();
    await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));
    const immediate = (await stream.send(requestBody(CHAT, true)))?.immediate_response;
    await stream.halfClose();

    assert.equal(denied.denied_response?.status.code, 429);
    assert.equal(immediate?.status.code, 429);
    assert.deepEqual(
      JSON.parse(denied.denied_response!.body),
      JSON.parse(immediate!.body!.toString()),
    );
    const extProcHeaders = Object.fromEntries(
      (immediate?.headers?.set_headers ?? []).map(({ header }) => [
        header.key,
        Buffer.from(header.raw_value!).toString(),
      ]),
    );
    assert.deepEqual(headersOf(denied.denied_response?.headers), extProcHeaders);
    assert.ok(extProcHeaders['retry-after'] && extProcHeaders['x-ratelimit-limit'] === '10');
    assert.deepEqual(metadataOf(denied), { tenant: 'acme', decision: 'budget_exhausted' });
  });

  it('denies with 503 and retry-after while the upstream breaker is open', async () => {
    const authz = await start('');
    await authz.check(checkRequest({ contextExtensions: { 'xds.cluster_name': 'llm' } }));
    const opened = await tg!.admin('/breakers/llm/open', 'POST');
    assert.equal(opened.status, 200, opened.text);

    const denied = await authz.check(
      checkRequest({ contextExtensions: { 'xds.cluster_name': 'llm' } }),
    );
    const other = await authz.check(
      checkRequest({ contextExtensions: { 'xds.cluster_name': 'other' } }),
    );

    assert.equal(denied.status.code, status.UNAVAILABLE);
    assert.equal(denied.denied_response?.status.code, 503);
    const headers = headersOf(denied.denied_response?.headers);
    assert.equal(headers['x-tollgate-decision'], 'circuit_open');
    assert.ok(Number(headers['retry-after']) >= 1);
    assert.equal(JSON.parse(denied.denied_response!.body).error.upstream, 'llm');
    assert.equal(other.status.code, status.OK, 'another upstream is unaffected');
  });

  it('takes no half-open trial permit, so it cannot starve the breaker of its trials', async () => {
    const yaml =
      'circuit_breakers:\n  defaults: {failure_threshold: 1, timeout_seconds: 10, ' +
      'half_open_max_requests: 1}\n';
    const authz = await start(yaml);
    const llm = { attributes: { 'xds.cluster_name': 'llm' } };
    const failing = tg!.stream();
    await failing.send(requestHeaders(llm));
    await failing.send(responseHeaders(500, {}, true));
    await failing.halfClose();
    clock.advance(10_000);

    for (let i = 0; i < 5; i++) {
      const check = await authz.check(
        checkRequest({ contextExtensions: { 'xds.cluster_name': 'llm' } }),
      );
      assert.equal(check.status.code, status.OK, 'a half-open breaker with a free trial allows');
    }

    const trial = tg!.stream();
    const reply = await trial.send(requestHeaders(llm));
    assert.ok(reply?.request_headers, 'ext_proc still gets the one trial permit');
    await trial.halfClose();
  });

  it('reads raw headers (encode_raw_headers); 401 when a tenant is required', async () => {
    const authz = await start('tenants: {required: true}\n');

    const named = await authz.check(
      checkRequest({ rawHeaders: true, headers: { 'x-tenant-id': 'acme' } }),
    );
    const anonymous = await authz.check(checkRequest({ rawHeaders: true }));

    assert.equal(headersOf(named.ok_response?.headers)['x-tollgate-tenant'], 'acme');
    assert.equal(anonymous.status.code, status.UNAUTHENTICATED);
    assert.equal(anonymous.denied_response?.status.code, 401);
  });

  it('counts checks by result', async () => {
    const authz = await start('tenants: {required: true}\n');

    await authz.check(checkRequest({ headers: { 'x-tenant-id': 'acme' } }));
    await authz.check(checkRequest());
    await authz.check(checkRequest());

    assert.equal(await metricValue(tg!, 'tollgate_extauthz_checks_total', { result: 'allow' }), 1);
    assert.equal(await metricValue(tg!, 'tollgate_extauthz_checks_total', { result: 'deny' }), 2);
  });
});
