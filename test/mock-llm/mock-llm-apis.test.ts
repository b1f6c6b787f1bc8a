import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMockLlm, type MockLlm } from '../../src/mock-llm/mock-llm-server.js';
import { call, tollgateReading } from './mock-llm-client.js';

let mock: MockLlm;

before(async () => {
  mock = await startMockLlm();
});

after(async () => {
  await mock.close();
});

const CHAT = '/v1/chat/completions';
const COMPLETIONS = '/v1/completions';
const MESSAGES = '/v1/messages';

/** Seven words of prompt: 2 in the system message, 5 in the user's (one as a content part). */
const chatBody = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'be brief' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'what is  a\ttoken,' },
        { type: 'text', text: 'really' },
      ],
    },
  ],
};

describe('mock LLM chat completions', () => {
  it('answers JSON with usage that counts prompt words and the default output', async () => {
    const answer = await call(mock.url, CHAT, chatBody);
    const body = answer.json();

    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('x-queue-depth'), '0');
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'gpt-4o-mini');
    assert.deepEqual(body.usage, {
      prompt_tokens: 7,
      completion_tokens: 16,
      total_tokens: 23,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    assert.equal(body.choices[0].message.content.split(' ').length, 16);
    assert.equal(body.choices[0].finish_reason, 'stop');
  });

  it('generates exactly max_tokens (or max_completion_tokens) words; finish: length', async () => {
    const byMax = (await call(mock.url, CHAT, { ...chatBody, max_tokens: 3 })).json();
    const byCompletionMax = (
      await call(mock.url, CHAT, { ...chatBody, max_completion_tokens: 4, max_tokens: 99 })
    ).json();

    assert.equal(byMax.choices[0].message.content, 'tokens flow from');
    assert.equal(byMax.choices[0].finish_reason, 'length');
    assert.equal(byMax.usage.completion_tokens, 3);
    assert.equal(byCompletionMax.usage.completion_tokens, 4);
  });

  it('streams SSE chunks and, with include_usage, a final usage chunk before [DONE]', async () => {
    const body = {
      ...chatBody,
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    };
    const answer = await call(mock.url, CHAT, body);
    const events = answer.events();

    assert.equal(answer.headers.get('content-type'), 'text/event-stream');
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data));
    assert.equal(chunks.length, 1 + 3 + 1 + 1);
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(
      chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''),
      'tokens flow from',
    );
    assert.equal(chunks[4].choices[0].finish_reason, 'length');
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.total_tokens, 10);
  });

  it('streams no usage at all without include_usage', async () => {
    const answer = await call(mock.url, CHAT, { ...chatBody, max_tokens: 2, stream: true });
    const chunks = answer
      .events()
      .slice(0, -1)
      .map((event) => JSON.parse(event.data));

    assert.ok(chunks.every((chunk) => !('usage' in chunk)));
    assert.equal(answer.events().at(-1)!.data, '[DONE]');
  });

  it("is read by tollgate's usage reader with the same counts, JSON and streamed", async () => {
    const json = await call(mock.url, CHAT, { ...chatBody, max_tokens: 5 });
    const sse = await call(mock.url, CHAT, {
      ...chatBody,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });

    for (const answer of [json, sse]) {
      const reading = await tollgateReading(CHAT, answer);
      assert.equal(reading.complete, true);
      assert.deepEqual(
        [reading.usage?.input, reading.usage?.output, reading.usage?.total],
        [7, 5, 12],
      );
    }
  });
});

describe('mock LLM legacy completions', () => {
  it('counts a list of prompts and answers a text_completion', async () => {
    const answer = await call(mock.url, COMPLETIONS, {
      model: 'mock-model',
      prompt: ['one two', 'three'],
      max_tokens: 2,
    });
    const body = answer.json();

    assert.equal(body.object, 'text_completion');
    assert.equal(body.choices[0].text, 'tokens flow');
    assert.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  it('streams text chunks with a usage chunk when asked', async () => {
    const answer = await call(mock.url, COMPLETIONS, {
      model: 'mock-model',
      prompt: 'one two three four',
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const reading = await tollgateReading(COMPLETIONS, answer);

    assert.equal(answer.events().length, 2 + 1 + 1);
    assert.deepEqual([reading.usage?.input, reading.usage?.output], [4, 2]);
  });
});

describe('mock LLM Anthropic messages', () => {
  const messagesBody = {
    model: 'claude-sonnet-4-5',
    system: [{ type: 'text', text: 'you are terse' }],
    messages: [{ role: 'user', content: 'count these four words' }],
    max_tokens: 3,
  };

  it('answers a message with input and output tokens', async () => {
    const body = (await call(mock.url, MESSAGES, messagesBody)).json();

    assert.equal(body.type, 'message');
    assert.deepEqual(body.content, [{ type: 'text', text: 'tokens flow from' }]);
    assert.equal(body.stop_reason, 'max_tokens');
    assert.deepEqual(body.usage, {
      input_tokens: 7,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it('streams message_start, text deltas, message_delta (output count), message_stop', async () => {
    const answer = await call(mock.url, MESSAGES, { ...messagesBody, stream: true });
    const events = answer.events();

    assert.deepEqual(
      events.map((event) => event.event),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    assert.equal(JSON.parse(events[0]!.data).message.usage.input_tokens, 7);
    assert.equal(JSON.parse(events[7]!.data).usage.output_tokens, 3);

    const reading = await tollgateReading(MESSAGES, answer);
    assert.deepEqual([reading.usage?.input, reading.usage?.output, reading.complete], [7, 3, true]);
  });

  it("answers errors in Anthropic's shape", async () => {
    const answer = await call(mock.url, MESSAGES, { ...messagesBody, model: 'claude-nope' });

    assert.equal(answer.status, 404);
    assert.deepEqual(answer.json(), {
      type: 'error',
      error: { type: 'not_found_error', message: 'the model claude-nope does not exist' },
    });
  });
});

describe('mock LLM request checks', () => {
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['a body that is not JSON', CHAT, '{"model":', 400, /not valid JSON/],
    ['a body without a model', CHAT, { messages: [] }, 400, /model is required/],
    ['chat without messages', CHAT, { model: 'mock-model' }, 400, /messages is required/],
    [
      'completions without a prompt',
      COMPLETIONS,
      { model: 'mock-model' },
      400,
      /prompt is required/,
    ],
    ['a model it does not serve', CHAT, { model: 'gpt-9', messages: [] }, 404, /does not exist/],
  ];

  for (const [what, path, body, status, message] of cases) {
    it(`answers ${status} to ${what}`, async () => {
      const answer = await call(mock.url, path, body);

      assert.equal(answer.status, status);
      assert.match(answer.json().error.message, message);
    });
  }

  it('answers 405 to a GET on an inference path and 404 to an unknown path', async () => {
    const get = await call(mock.url, CHAT);
    const unknown = await call(mock.url, '/v2/anything');

    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(unknown.status, 404);
  });
});
