import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { metricValue } from '../helpers/metrics.js';
import { startTestTollgate, testConfig, type TestTollgate } from '../helpers/tollgate-harness.js';
import { playExchange } from '../helpers/usage-exchange.js';
import { chatJson } from '../usage/fixtures/openai-chat.js';

const PRICING = `
cost_attribution:
  pricing:
    - model_pattern: "o4-mini*"
      input_cost_per_million: 1.1
      output_cost_per_million: 4.4
      cached_input_cost_per_million: 0.275
`;

const MODEL = 'o4-mini-2025-04-16';
const INPUT = { model: MODEL, type: 'input' };
const COST = { model: MODEL, currency: 'USD' };
// (1117 - 1024) × 1.1 + 1024 × 0.275 + 310 × 4.4, per million, in USD.
const REQUEST_COST = 0.0017479;

async function playAs(tg: TestTollgate, tenant: string): Promise<void> {
  await playExchange(tg.stream(), {
    path: '/v1/chat/completions',
    headers: { 'x-tenant-id': tenant },
    chunks: [chatJson],
  });
}

function assertMoney(actual: number | undefined, expected: number, label: string): void {
  assert.ok(Math.abs((actual ?? NaN) - expected) < 1e-12, `${label}: ${actual} != ${expected}`);
}

describe('usage metrics by tenant over ext_proc', () => {
  describe('with tenant labels off (the default)', () => {
    let tg: TestTollgate;

    before(async () => {
      tg = await startTestTollgate(PRICING);
    });
    after(() => tg.stop());

    it('counts tokens and cost by model only, whatever the tenant', async () => {
      await playAs(tg, 'acme');
      await playAs(tg, 'globex');

      assert.equal(await metricValue(tg, 'tollgate_tokens_total', INPUT), 2 * 1117);
      assertMoney(await metricValue(tg, 'tollgate_cost_total', COST), 2 * REQUEST_COST, 'cost');
      const { text } = await tg.admin('/metrics');
      assert.doesNotMatch(text, /tollgate_(tokens|cost)_total\{[^}]*tenant=/);
    });

    it('adds the tenant label from the next stream when a reload turns it on', async () => {
      const server = 'server:\n  grpc_address: 127.0.0.1:0\n  admin_address: 127.0.0.1:0\n';
      tg.tollgate.applyConfig(
        testConfig(server + PRICING + 'usage: {metrics: {tenant_labels: true}}'),
      );

      await playAs(tg, 'acme');

      const acme = { ...INPUT, tenant: 'acme' };
      assert.equal(await metricValue(tg, 'tollgate_tokens_total', acme), 1117);
    });
  });

  describe('with tenant labels on and a cap of two', () => {
    let tg: TestTollgate;

    before(async () => {
      const labels = 'usage:\n  metrics:\n    tenant_labels: true\n    max_tenant_labels: 2\n';
      tg = await startTestTollgate(PRICING + labels);
    });
    after(() => tg.stop());

    it('labels the first tenants by name and later ones other', async () => {
      for (const tenant of ['acme', 'globex', 'acme', 'initech', 'umbrella']) {
        await playAs(tg, tenant);
      }

      const tokens = (tenant: string) =>
        metricValue(tg, 'tollgate_tokens_total', { ...INPUT, tenant });
      assert.equal(await tokens('acme'), 2 * 1117);
      assert.equal(await tokens('globex'), 1117);
      assert.equal(await tokens('other'), 2 * 1117);
      assert.equal(await tokens('initech'), undefined);
      assert.equal(await metricValue(tg, 'tollgate_tokens_total', INPUT), undefined);

      const cost = (tenant: string) => metricValue(tg, 'tollgate_cost_total', { ...COST, tenant });
      assertMoney(await cost('acme'), 2 * REQUEST_COST, 'acme');
      assertMoney(await cost('other'), 2 * REQUEST_COST, 'other');
    });

    it('labels the default tenant of a request without a tenant like any other', async () => {
      await playAs(tg, 'acme');
      await playAs(tg, 'globex');
      const other = { model: MODEL, type: 'output', tenant: 'other' };
      const before = (await metricValue(tg, 'tollgate_tokens_total', other)) ?? 0;

      await playExchange(tg.stream(), { path: '/v1/chat/completions', chunks: [chatJson] });

      // "anonymous" comes after the two tenants the cap keeps: it is "other".
      assert.equal(await metricValue(tg, 'tollgate_tokens_total', other), before + 310);
      const anonymous = { model: MODEL, type: 'output', tenant: 'anonymous' };
      assert.equal(await metricValue(tg, 'tollgate_tokens_total', anonymous), undefined);
    });
  });
});
