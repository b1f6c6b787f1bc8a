import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  startTestTollgate,
  type TestTollgate,
  type TestTollgateOptions,
} from '../helpers/tollgate-harness.js';
import {
  playExchange,
  setHeaderValue,
  tollgateMetadata,
  type ExchangeReplies,
} from '../helpers/usage-exchange.js';
import { waitFor } from '../helpers/wait.js';
import { ollamaChat } from '../usage/fixtures/ollama.js';
import { chatJson, chatSse } from '../usage/fixtures/openai-chat.js';

const PRICING = `
cost_attribution:
  pricing:
    - model_pattern: "o4-mini*"
      input_cost_per_million: 1.1
      output_cost_per_million: 4.4
      cached_input_cost_per_million: 0.275
`;

const SSE = { 'content-type': 'text/event-stream' };
const STREAMED_REQUEST = '{"model":"gpt-4o-mini","stream":true,"messages":[]}';
/** ProcessingMode.BodySendMode.STREAMED, as the test client decodes it. */
const STREAMED = 1 as unknown as 'STREAMED';

/** Runs `body` against a tollgate started with `yaml`, stopping it after. */
async function withTollgate(
  yaml: string,
  body: (tg: TestTollgate) => Promise<void>,
  options?: TestTollgateOptions,
): Promise<void> {
  const tg = await startTestTollgate(yaml, options);
  try {
    await body(tg);
  } finally {
    await tg.stop();
  }
}

function playChatJson(tg: TestTollgate, chunks: readonly string[] = [chatJson]) {
  return playExchange(tg.stream(), {
    path: '/v1/chat/completions',
    headers: { 'x-request-id': 'req-chat-json', 'accept-encoding': 'gzip' },
    requestBody: '{"model":"o4-mini","messages":[{"role":"user","content":"hi"}]}',
    chunks,
  });
}

function lastMetadata(replies: ExchangeReplies, namespace?: string, key?: string) {
  return tollgateMetadata(replies.bodies.at(-1), namespace, key);
}

describe('usage settings over ext_proc', () => {
  it('sends no usage headers on a buffered response with response_headers: false', async () => {
    await withTollgate(PRICING + 'usage: {response_headers: false}', async (tg) => {
      const replies = await playChatJson(tg);

      const last = replies.bodies.at(-1);
      assert.equal(last?.response_body?.response?.header_mutation, undefined);
      assert.equal(lastMetadata(replies)?.tokens_input, 1117, 'the metadata is still sent');
      assert.equal(lastMetadata(replies)?.cost, '0.0017479');
    });
  });

  it('leaves a streamed request body alone with inject_stream_usage: false', async () => {
    await withTollgate('usage: {inject_stream_usage: false}', async (tg) => {
      const replies = await playExchange(tg.stream(), {
        path: '/v1/chat/completions',
        requestBody: STREAMED_REQUEST,
        responseHeaders: SSE,
        chunks: [chatSse],
      });

      assert.deepEqual(replies.requestBody?.request_body, { response: {} });
      assert.equal(lastMetadata(replies)?.tokens_output, 7);
    });
  });

  it('keeps accept-encoding with identity_encoding: false', async () => {
    await withTollgate('usage: {identity_encoding: false}', async (tg) => {
      const replies = await playChatJson(tg);

      assert.deepEqual(replies.requestHeaders?.request_headers, { response: {} });
      assert.equal(lastMetadata(replies)?.tokens_input, 1117);
    });
  });

  it('asks for no mode override with stream_mode_override: false, and reads the body', async () => {
    await withTollgate('usage: {stream_mode_override: false}', async (tg) => {
      // Without the override, Envoy's configured BUFFERED mode sends the body whole.
      const replies = await playExchange(tg.stream(), {
        path: '/v1/chat/completions',
        requestBody: STREAMED_REQUEST,
        responseHeaders: SSE,
        chunks: [chatSse],
      });

      assert.equal(replies.responseHeaders?.mode_override, undefined);
      assert.equal(lastMetadata(replies)?.tokens_input, 19);
      const last = replies.bodies.at(-1);
      assert.equal(setHeaderValue(last, 'response_body', 'x-tollgate-tokens-output'), '7');
    });
  });

  it('writes the metadata under a custom usage.metadata namespace and key', async () => {
    const yaml = PRICING + 'usage:\n  metadata: {namespace: com.example.billing, key: usage}\n';
    await withTollgate(yaml, async (tg) => {
      const replies = await playChatJson(tg);

      const fields = Object.keys(replies.bodies.at(-1)?.dynamic_metadata?.fields ?? {});
      assert.deepEqual(fields, ['com.example.billing']);
      const metadata = lastMetadata(replies, 'com.example.billing', 'usage');
      assert.equal(metadata?.tokens_input, 1117);
      assert.equal(metadata?.cost, '0.0017479');
      assert.equal(lastMetadata(replies, 'com.example.billing'), undefined);
    });
  });

  it('reads JSON that Envoy streams in several response_body messages', async () => {
    await withTollgate(PRICING, async (tg) => {
      const third = Math.ceil(chatJson.length / 3);
      const chunks = [0, 1, 2].map((i) => chatJson.slice(i * third, (i + 1) * third));

      const replies = await playChatJson(tg, chunks);

      const early = replies.bodies.slice(0, 2).map((reply) => reply?.response_body);
      assert.deepEqual(early, [{ response: {} }, { response: {} }]);
      const last = replies.bodies.at(-1);
      // Envoy drops header mutations sent in a STREAMED body reply, so none are sent.
      assert.equal(last?.response_body?.response?.header_mutation, undefined);
      assert.equal(lastMetadata(replies)?.tokens_input, 1117);
      assert.equal(lastMetadata(replies)?.tokens_output, 310);
      assert.equal(lastMetadata(replies)?.cost, '0.0017479');
    });
  });
});

describe('usage.routes over ext_proc', () => {
  const ROUTES = `
usage:
  routes:
    - {path_prefix: /ollama/, provider: ollama}
    - {route_name: claude-route, provider: anthropic_messages}
`;
  // input_tokens with total_tokens: by shape alone, the Responses API.
  const AMBIGUOUS = '{"model":"m","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}';

  it('reads a path_prefix route in its format, NDJSON streamed though labelled JSON', async () => {
    await withTollgate(ROUTES, async (tg) => {
      const replies = await playExchange(tg.stream(), {
        path: '/ollama/api/chat',
        requestBody: '{"model":"llama3.2","messages":[]}',
        responseHeaders: { 'content-type': 'application/json' },
        chunks: [ollamaChat],
      });

      assert.equal(replies.responseHeaders?.mode_override?.response_body_mode, STREAMED);
      const metadata = lastMetadata(replies);
      assert.equal(metadata?.provider, 'ollama');
      assert.equal(metadata?.tokens_input, 26);
      assert.equal(metadata?.tokens_output, 282);
    });
  });

  it('reads a route named by the xds.route_name attribute in its format', async () => {
    await withTollgate(ROUTES, async (tg) => {
      const play = (routeName: string) =>
        playExchange(tg.stream(), {
          path: '/custom/llm',
          attributes: { 'xds.route_name': routeName },
          chunks: [AMBIGUOUS],
        });

      const routed = lastMetadata(await play('claude-route'));
      const other = lastMetadata(await play('other-route'));

      assert.equal(routed?.provider, 'anthropic_messages');
      assert.equal(other?.provider, 'openai_responses', 'without the route, the shape decides');
      assert.equal(routed?.tokens_total, 15);
    });
  });
});

describe('the per-request usage log line', () => {
  it('logs the settled usage and cost at debug', async () => {
    await withTollgate(PRICING, async (tg) => {
      await playChatJson(tg);

      const settled = () =>
        tg.logs.find('request settled').find((line) => line.requestId === 'req-chat-json');
      await waitFor(() => settled() !== undefined);
      const line = settled()!;
      assert.equal(line.level, 'debug');
      assert.equal(line.end, 'half_closed');
      assert.equal(line.model, 'o4-mini-2025-04-16');
      assert.equal(line.provider, 'openai_chat');
      assert.equal(line.source, 'reported');
      assert.deepEqual(line.usage, {
        input: 1117,
        cachedInput: 1024,
        cacheCreation: 0,
        output: 310,
        reasoning: 256,
        total: 1427,
      });
      assert.equal(line.costNanos, 1_747_900);
      assert.equal(line.currency, 'USD');
    });
  });

  it('writes no per-request line at info', async () => {
    const tg = await startTestTollgate(PRICING, { logLevel: 'info' });
    await playChatJson(tg);
    await tg.stop(); // every stream has ended, and would have logged by now

    assert.deepEqual(tg.logs.find('request settled'), []);
    assert.ok(tg.logs.find('tollgate is serving').length > 0, 'the sink saw info lines');
  });
});
