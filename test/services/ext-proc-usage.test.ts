import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import { replyKind } from '../helpers/envoy-client.js';
import { requestHeaders, responseBody, responseHeaders } from '../helpers/envoy-messages.js';
import { metricValue } from '../helpers/metrics.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import {
  PATH_OF,
  playExchange,
  setHeaderValue,
  tollgateMetadata,
  type ScriptedExchange,
} from '../helpers/usage-exchange.js';
import { waitFor } from '../helpers/wait.js';
import { ALL_CASES, STREAMED_CASES } from '../usage/fixtures/all-cases.js';
import { anthropicSse, anthropicSseHead } from '../usage/fixtures/anthropic.js';
import { ollamaChat } from '../usage/fixtures/ollama.js';
import { chatJson, chatSse, openAiErrorJson } from '../usage/fixtures/openai-chat.js';
import { FIXTURE_PRICING } from '../usage/fixtures/prices.js';
import type { UsageCase } from '../usage/fixtures/usage-case.js';

// Every fixture's model is priced, so each case's cost is checked end to end.
const CONFIG = FIXTURE_PRICING;

const SSE = { 'content-type': 'text/event-stream' };

/** ProcessingMode.BodySendMode.STREAMED: the test client decodes enums as numbers. */
const STREAMED = 1 as unknown as 'STREAMED';

function scriptFor(usageCase: UsageCase, chunks: ReadonlyArray<string | Buffer>): ScriptedExchange {
  const format = usageCase.options.format;
  return {
    path: format ? PATH_OF[format] : '/custom/llm',
    requestBody: JSON.stringify({ model: 'requested-model', messages: [] }),
    responseHeaders: { 'content-type': usageCase.options.contentType ?? 'application/json' },
    chunks,
  };
}

/** Asserts the exact tokens and the exact cost of `usageCase` in tollgate's metadata. */
function expectUsage(
  metadata: Record<string, string | number> | undefined,
  usageCase: UsageCase,
  label: string,
) {
  const usage = usageCase.expected.usage!;
  assert.deepEqual(
    metadata && {
      input: metadata.tokens_input,
      cachedInput: metadata.tokens_cached_input,
      cacheCreation: metadata.tokens_cache_creation,
      output: metadata.tokens_output,
      reasoning: metadata.tokens_reasoning,
      total: metadata.tokens_total,
      cost: metadata.cost,
      currency: metadata.currency,
    },
    { ...usage, cost: usageCase.cost, currency: 'USD' },
    label,
  );
}

describe('usage and cost over ext_proc', () => {
  let tg: TestTollgate;

  before(async () => {
    tg = await startTestTollgate(CONFIG);
  });
  after(() => tg.stop());

  for (const usageCase of ALL_CASES.filter((c) => c.expected.usage)) {
    it(`reports the exact usage and cost of ${usageCase.name} in dynamic metadata`, async () => {
      const replies = await playExchange(tg.stream(), scriptFor(usageCase, [usageCase.body]));

      const metadata = tollgateMetadata(replies.bodies.at(-1));
      expectUsage(metadata, usageCase, usageCase.name);
      assert.equal(metadata?.model, usageCase.expected.model ?? 'requested-model');
      assert.equal(metadata?.provider, usageCase.expected.format);
      assert.equal(metadata?.usage_source, usageCase.expected.complete ? 'reported' : 'partial');
    });
  }

  for (const usageCase of STREAMED_CASES.filter((c) => c.expected.usage)) {
    it(`gives the same usage and cost for ${usageCase.name} split at every byte`, async () => {
      const body = Buffer.from(usageCase.body);
      const splits = Array.from({ length: body.length - 1 }, (_, i) => i + 1);

      for (let start = 0; start < splits.length; start += 32) {
        const batch = splits.slice(start, start + 32).map(async (at) => {
          const chunks = [body.subarray(0, at), body.subarray(at)];
          const replies = await playExchange(tg.stream(), scriptFor(usageCase, chunks));
          expectUsage(tollgateMetadata(replies.bodies.at(-1)), usageCase, `split at ${at}`);
        });
        await Promise.all(batch);
      }
    });
  }

  it('prices a streamed gpt-4o-mini-2024-07-18 by gpt-4o-mini*, listed after gpt-4o*', async () => {
    const order = ['"gpt-4o*"', '"gpt-4o-mini*"'].map((pattern) => CONFIG.indexOf(pattern));
    assert.ok(order[0]! >= 0 && order[0]! < order[1]!, 'the broader glob comes first');

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o-mini","stream":true,"messages":[]}',
      responseHeaders: SSE,
      chunks: [chatSse.slice(0, 100), chatSse.slice(100)],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.model, 'gpt-4o-mini-2024-07-18');
    // 19 × 0.15 + 7 × 0.6 per million; at gpt-4o's prices it would be 0.0001175.
    assert.equal(metadata?.cost, '0.00000705');
  });

  it('adds usage and exact cost headers to a buffered JSON response', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"o4-mini","messages":[{"role":"user","content":"hi"}]}',
      chunks: [chatJson],
    });

    const last = replies.bodies.at(-1);
    assert.equal(setHeaderValue(last, 'response_body', 'x-tollgate-tokens-input'), '1117');
    assert.equal(setHeaderValue(last, 'response_body', 'x-tollgate-tokens-output'), '310');
    // (1117 - 1024) × 1.1 + 1024 × 0.275 + 310 × 4.4, per million, in USD.
    assert.equal(setHeaderValue(last, 'response_body', 'x-tollgate-cost'), '0.0017479');
    const metadata = tollgateMetadata(last);
    assert.equal(metadata?.cost, '0.0017479');
    assert.equal(metadata?.currency, 'USD');
  });

  it('counts tokens and cost in the metrics by model', async () => {
    const model = { model: 'o4-mini-2025-04-16' };
    const before =
      (await metricValue(tg, 'tollgate_tokens_total', { ...model, type: 'input' })) ?? 0;
    const cost = (await metricValue(tg, 'tollgate_cost_total', { ...model, currency: 'USD' })) ?? 0;

    await playExchange(tg.stream(), { path: '/v1/chat/completions', chunks: [chatJson] });

    const input = await metricValue(tg, 'tollgate_tokens_total', { ...model, type: 'input' });
    const costAfter = await metricValue(tg, 'tollgate_cost_total', { ...model, currency: 'USD' });
    assert.equal(input, before + 1117);
    assert.ok(Math.abs((costAfter ?? 0) - cost - 0.0017479) < 1e-12);
  });

  it('asks for usage in a streamed completion and keeps content-length right', async () => {
    const body =
      '{"model":"gpt-4o-mini","stream":true,' + '"messages":[{"role":"user","content":"é"}]}';

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: body,
      responseHeaders: SSE,
      chunks: [chatSse],
    });

    const mutation = replies.requestBody?.request_body?.response;
    const sent = Buffer.from(mutation?.body_mutation?.body ?? []);
    assert.deepEqual(JSON.parse(sent.toString()).stream_options, { include_usage: true });
    assert.equal(
      setHeaderValue(replies.requestBody, 'request_body', 'content-length'),
      String(sent.length),
    );
    assert.equal(replies.responseHeaders?.mode_override?.response_body_mode, 1);
  });

  it('leaves a request that already asks for usage untouched', async () => {
    const body = '{"stream":true,"stream_options":{"include_usage":true}}';

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: body,
      responseHeaders: SSE,
      chunks: [chatSse],
    });

    assert.equal(replies.requestBody?.request_body?.response?.body_mutation, undefined);
  });

  it('removes accept-encoding from the request', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      headers: { 'accept-encoding': 'gzip, br' },
      chunks: [chatJson],
    });

    const mutation = replies.requestHeaders?.request_headers?.response?.header_mutation;
    assert.deepEqual(mutation?.remove_headers, ['accept-encoding']);
  });

  it('decodes a gzip response that arrives anyway, in small chunks', async () => {
    const gzipped = gzipSync(Buffer.from(chatSse));
    const chunks = Array.from({ length: Math.ceil(gzipped.length / 7) }, (_, i) =>
      gzipped.subarray(i * 7, i * 7 + 7),
    );

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      responseHeaders: { ...SSE, 'content-encoding': 'gzip' },
      chunks,
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.tokens_input, 19);
    assert.equal(metadata?.tokens_output, 7);
  });

  it('stops inflating a gzip bomb at max_decoded_bytes and charges the estimate', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20));
    const small = await startTestTollgate('usage:\n  max_decoded_bytes: 1048576\n');
    try {
      const started = performance.now();
      const replies = await playExchange(small.stream(), {
        path: '/v1/chat/completions',
        requestBody: '{"model":"gpt-4o","max_tokens":20,"messages":[]}',
        responseHeaders: { 'content-encoding': 'gzip' },
        chunks: [bomb],
      });
      const elapsed = performance.now() - started;

      const metadata = tollgateMetadata(replies.bodies.at(-1));
      assert.equal(metadata?.usage_source, 'estimated');
      assert.equal(metadata?.usage_missing, 'decoded_too_large');
      assert.ok(elapsed < 1000, `inflating stopped early (${elapsed.toFixed(0)} ms)`);
    } finally {
      await small.stop();
    }
  });

  it('charges the estimate for an empty gzip body, without an error', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}',
      responseHeaders: { 'content-encoding': 'gzip' },
      chunks: [Buffer.alloc(0)],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'estimated');
    assert.equal(metadata?.tokens_output, 50);
    assert.equal(tg.logs.lines.filter((line) => line.level === 'error').length, 0);
  });

  it('charges nothing for an upstream error that reports no usage', async () => {
    const before = (await metricValue(tg, 'tollgate_usage_missing_total', ERROR)) ?? 0;

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
      status: 429,
      chunks: [openAiErrorJson],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'none');
    assert.equal(metadata?.usage_missing, 'upstream_error');
    assert.equal(metadata?.tokens_total, 0);
    assert.equal(await metricValue(tg, 'tollgate_usage_missing_total', ERROR), before + 1);
  });

  it('charges the estimate and counts the reason when a stream reports no usage', async () => {
    const noUsage = 'data: {"id":"x","model":"gpt-4o","choices":[]}\n\ndata: [DONE]\n\n';
    const before = (await metricValue(tg, 'tollgate_usage_missing_total', NO_USAGE)) ?? 0;

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o","stream":true,"max_tokens":64,"messages":[]}',
      responseHeaders: SSE,
      chunks: [noUsage],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'estimated');
    assert.equal(metadata?.tokens_output, 64);
    assert.equal(await metricValue(tg, 'tollgate_usage_missing_total', NO_USAGE), before + 1);
  });

  it('settles a stream cancelled mid-body with the usage known so far', async () => {
    const before = (await metricValue(tg, 'tollgate_usage_settlements_total', PARTIAL)) ?? 0;
    const stream = tg.stream();

    const headers = { 'x-request-id': 'cancelled-after-message-start' };
    await stream.send(requestHeaders({ path: '/v1/messages', headers }));
    await stream.send(responseHeaders(200, SSE));
    await stream.send(responseBody(anthropicSseHead, false));
    await stream.cancel();

    const settled = () =>
      tg.logs
        .find('request settled')
        .find((line) => line.requestId === 'cancelled-after-message-start');
    await waitFor(() => settled() !== undefined);
    // Input and cache counts from message_start; its output (1) is a
    // placeholder, so the default output estimate (no body was read) is charged.
    assert.deepEqual(settled()?.usage, {
      input: 6225,
      cachedInput: 5000,
      cacheCreation: 1200,
      output: 1024,
      reasoning: 0,
      total: 7249,
    });
    assert.equal(settled()?.source, 'partial');
    assert.equal(settled()?.missing, 'incomplete_stream');
    assert.equal(settled()?.end, 'cancelled');
    assert.equal(await metricValue(tg, 'tollgate_usage_settlements_total', PARTIAL), before + 1);
  });

  it('charges at least the output estimate when Anthropic stops before message_delta', async () => {
    const before = (await metricValue(tg, 'tollgate_usage_missing_total', INCOMPLETE)) ?? 0;

    const replies = await playExchange(tg.stream(), {
      path: '/v1/messages',
      requestBody: ANTHROPIC_REQUEST,
      responseHeaders: SSE,
      chunks: [anthropicSseHead],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'partial');
    assert.equal(metadata?.usage_missing, 'incomplete_stream');
    assert.equal(metadata?.tokens_input, 6225);
    assert.equal(metadata?.tokens_output, 300, 'max_tokens, not the placeholder 1');
    assert.equal(metadata?.tokens_total, 6525);
    assert.equal(await metricValue(tg, 'tollgate_usage_missing_total', INCOMPLETE), before + 1);
  });

  it('charges the reported output of an Anthropic stream cut after message_delta', async () => {
    const before = (await metricValue(tg, 'tollgate_usage_missing_total', INCOMPLETE)) ?? 0;
    const cut = anthropicSse.slice(0, anthropicSse.indexOf('event: message_stop'));

    const replies = await playExchange(tg.stream(), {
      path: '/v1/messages',
      requestBody: ANTHROPIC_REQUEST,
      responseHeaders: SSE,
      chunks: [cut],
    });

    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'partial');
    assert.equal(metadata?.usage_missing, undefined);
    assert.equal(metadata?.tokens_output, 15);
    assert.equal(await metricValue(tg, 'tollgate_usage_missing_total', INCOMPLETE), before);
  });

  it('charges nothing for a request that is not an LLM call', async () => {
    const before = (await metricValue(tg, 'tollgate_usage_settlements_total', NONE)) ?? 0;

    const replies = await playExchange(tg.stream(), {
      path: '/v1/models',
      chunks: ['{"data":[]}'],
    });

    const last = replies.bodies.at(-1);
    assert.equal(tollgateMetadata(last)?.tokens_total, 0);
    assert.equal(await metricValue(tg, 'tollgate_usage_settlements_total', NONE), before + 1);
    assert.equal(tollgateMetadata(last)?.cost, undefined, 'nothing charged, nothing priced');
    assert.equal(setHeaderValue(last, 'response_body', 'x-tollgate-cost'), undefined);
    const unpriced = { model: 'unknown', matched: 'unpriced' };
    assert.equal(await metricValue(tg, 'tollgate_cost_fallback_prices_total', unpriced), undefined);
  });

  it('sends no usage headers on a response streamed to tollgate: Envoy drops them', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o","stream":true,"messages":[]}',
      responseHeaders: SSE,
      chunks: [chatSse.slice(0, 40), chatSse.slice(40)],
    });

    const override = replies.responseHeaders?.mode_override?.response_body_mode;
    assert.equal(override, STREAMED);
    const last = replies.bodies.at(-1);
    assert.equal(tollgateMetadata(last)?.tokens_input, 19, 'metadata still carries the usage');
    assert.equal(last?.response_body?.response?.header_mutation, undefined);
  });

  it('asks Envoy to stream an NDJSON response (Ollama) to tollgate', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/api/chat',
      requestBody: '{"model":"llama3","stream":true,"messages":[]}',
      responseHeaders: { 'content-type': 'application/x-ndjson' },
      chunks: [ollamaChat],
    });

    assert.equal(replies.responseHeaders?.mode_override?.response_body_mode, STREAMED);
    const metadata = tollgateMetadata(replies.bodies.at(-1));
    assert.equal(metadata?.tokens_input, 26);
    assert.equal(metadata?.tokens_output, 282);
    assert.equal(metadata?.tokens_total, 308);
  });

  it('warns once per field when a provider reports a count that is not a token count', async () => {
    const bad = JSON.stringify({
      model: 'gpt-4o',
      usage: { prompt_tokens: -5, completion_tokens: 3, total_tokens: 3 },
    });
    const script = { path: '/v1/chat/completions', chunks: [bad] };

    const first = await playExchange(tg.stream(), script);
    await playExchange(tg.stream(), script);

    // The rejected prompt count is not stated, so 0; the trusted counts stand.
    const metadata = tollgateMetadata(first.bodies.at(-1));
    assert.equal(metadata?.usage_source, 'reported');
    assert.equal(metadata?.tokens_input, 0);
    assert.equal(metadata?.tokens_output, 3);
    assert.equal(metadata?.tokens_total, 3);
    const warned = tg.logs.find('not whole non-negative token counts');
    assert.equal(warned.length, 1);
    assert.deepEqual(warned[0]?.fields, ['usage.prompt_tokens']);
  });

  it('settles at the response headers when the response has no body', async () => {
    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      requestBody: '{"model":"gpt-4o","messages":[]}',
      status: 204,
      chunks: [],
    });

    assert.equal(replyKind(replies.responseHeaders), 'response_headers');
    assert.equal(tollgateMetadata(replies.responseHeaders)?.usage_source, 'none');
  });

  it('reports cost as unknown and counts the model when no price matches', async () => {
    const body = chatJson.replace('o4-mini-2025-04-16', 'mystery-model');

    const replies = await playExchange(tg.stream(), {
      path: '/v1/chat/completions',
      chunks: [body],
    });

    assert.equal(tollgateMetadata(replies.bodies.at(-1))?.cost, 'unknown');
    const unpriced = { model: 'mystery-model', matched: 'unpriced' };
    assert.equal(await metricValue(tg, 'tollgate_cost_fallback_prices_total', unpriced), 1);
  });
});

const ERROR = { reason: 'upstream_error' };
const NO_USAGE = { reason: 'no_usage' };
const PARTIAL = { source: 'partial' };
const INCOMPLETE = { reason: 'incomplete_stream' };
const ANTHROPIC_REQUEST = JSON.stringify({
  model: 'claude-sonnet-4-20250514',
  max_tokens: 300,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});
const NONE = { source: 'none' };
