import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { detectFormat, extractUsage } from '../../src/usage/response/provider-extractors.js';
import type { ProviderFormat } from '../../src/usage/token-usage.js';
import { geminiChunks } from './fixtures/gemini.js';

describe('extractUsage', () => {
  const cases: [string, ProviderFormat, unknown, object][] = [
    [
      'reads nothing from an OpenAI chunk whose usage is null',
      'openai_chat',
      { object: 'chat.completion.chunk', model: 'gpt-4o', choices: [], usage: null },
      { model: 'gpt-4o', rejected: [], final: false },
    ],
    [
      'takes the usage of an OpenAI usage-only chunk as final',
      'openai_chat',
      { model: 'gpt-4o', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } },
      { usage: { input: 3, output: 4 }, model: 'gpt-4o', rejected: [], final: true },
    ],
    [
      'takes the usage of a chunk that finishes its choice as final (llama.cpp)',
      'openai_chat',
      {
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      },
      { usage: { input: 3, output: 4 }, rejected: [], final: true },
    ],
    [
      'takes a running count mid-stream (vLLM continuous usage) as not final',
      'openai_chat',
      {
        choices: [{ index: 0, delta: { content: 'hé' }, finish_reason: null }],
        usage: { prompt_tokens: 3, completion_tokens: 1 },
      },
      { usage: { input: 3, output: 1 }, rejected: [], final: false },
    ],
    [
      'reads embeddings usage without output',
      'openai_embeddings',
      { model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } },
      {
        usage: { input: 8, total: 8 },
        model: 'text-embedding-3-small',
        rejected: [],
        final: true,
      },
    ],
    [
      'reads the message of an Anthropic message_start',
      'anthropic_messages',
      {
        type: 'message_start',
        message: {
          model: 'claude-opus-4-1',
          usage: { input_tokens: 3, cache_read_input_tokens: 10, output_tokens: 1 },
        },
      },
      {
        usage: { input: 13, cachedInput: 10, output: 1 },
        model: 'claude-opus-4-1',
        rejected: [],
        terminal: false,
        final: false,
      },
    ],
    [
      'reads the cumulative output of an Anthropic message_delta',
      'anthropic_messages',
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } },
      { usage: { output: 15 }, rejected: [], terminal: false, final: true },
    ],
    [
      'marks an Anthropic message_stop terminal',
      'anthropic_messages',
      { type: 'message_stop' },
      { rejected: [], terminal: true, final: false },
    ],
    [
      'reads the response of a Responses response.incomplete and marks it terminal',
      'openai_responses',
      {
        type: 'response.incomplete',
        response: {
          model: 'gpt-5',
          usage: { input_tokens: 9, output_tokens: 64, total_tokens: 73 },
        },
      },
      { usage: { input: 9, output: 64, total: 73 }, model: 'gpt-5', rejected: [], terminal: true },
    ],
    [
      'marks a Responses response.failed terminal',
      'openai_responses',
      { type: 'response.failed', response: { model: 'gpt-5', usage: null } },
      { model: 'gpt-5', rejected: [], terminal: true },
    ],
    [
      'does not end a Responses stream at a delta',
      'openai_responses',
      { type: 'response.output_text.delta', delta: 'hé' },
      { rejected: [], terminal: false },
    ],
    [
      'marks the Gemini chunk with a finishReason terminal',
      'gemini',
      geminiChunks[2],
      {
        usage: { input: 736, output: 517, reasoning: 512, total: 1253 },
        model: 'gemini-2.5-pro',
        rejected: [],
        terminal: true,
      },
    ],
    [
      'marks a Gemini response whose prompt was blocked terminal',
      'gemini',
      {
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
      },
      { usage: { input: 7, total: 7 }, rejected: [], terminal: true },
    ],
    [
      'reads a Gemini chunk that omits zero counts',
      'gemini',
      geminiChunks[0],
      {
        usage: { input: 640, output: 512, reasoning: 512, total: 1152 },
        model: 'gemini-2.5-pro',
        rejected: [],
        terminal: false,
      },
    ],
    [
      'does not end an Ollama stream before done',
      'ollama',
      { model: 'llama3.2', message: { content: 'hé' }, done: false },
      { model: 'llama3.2', rejected: [], terminal: false },
    ],
  ];

  for (const [name, format, document, extraction] of cases) {
    it(name, () => {
      assert.deepEqual(extractUsage(document, format), {
        usage: undefined,
        model: undefined,
        ...extraction,
      });
    });
  }

  it('rejects counts that are not trusted and keeps the rest', () => {
    const document = {
      model: 'gpt-4o',
      usage: {
        prompt_tokens: -5,
        completion_tokens: 2.5,
        total_tokens: '12',
        prompt_tokens_details: { cached_tokens: 1e20 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    };

    const extraction = extractUsage(document, 'openai_chat');

    assert.deepEqual(extraction.usage, { reasoning: 0 });
    assert.deepEqual(extraction.rejected.sort(), [
      'usage.completion_tokens',
      'usage.prompt_tokens',
      'usage.prompt_tokens_details.cached_tokens',
      'usage.total_tokens',
    ]);
  });

  it('rejects a model name that is not a short string', () => {
    const tooLong = { model: 'm'.repeat(257), usage: { prompt_tokens: 1 } };
    const notText = { model: 42, usage: { prompt_tokens: 1 } };

    assert.deepEqual(extractUsage(tooLong, 'openai_chat').rejected, ['model']);
    assert.deepEqual(extractUsage(notText, 'openai_chat').rejected, ['model']);
    assert.equal(extractUsage({ model: '' }, 'openai_chat').model, undefined);
  });

  it('reads nothing, without throwing, from documents of any other shape', () => {
    for (const document of [null, 7, 'text', [], { usage: 'x' }, { usage: [1, 2] }]) {
      for (const format of ['openai_chat', 'anthropic_messages', 'gemini'] as const) {
        assert.deepEqual(extractUsage(document, format).usage, undefined);
      }
    }
  });
});

describe('detectFormat', () => {
  const cases: [string, unknown, ProviderFormat | undefined][] = [
    [
      'an OpenAI chunk without usage',
      { object: 'chat.completion.chunk', choices: [] },
      'openai_chat',
    ],
    ['a bare usage.prompt_tokens', { usage: { prompt_tokens: 1 } }, 'openai_chat'],
    ['a legacy completion', { object: 'text_completion' }, 'openai_completions'],
    ['an embeddings list', { object: 'list', usage: { prompt_tokens: 8 } }, 'openai_embeddings'],
    ['a Responses body', { object: 'response', usage: { input_tokens: 1 } }, 'openai_responses'],
    ['a Responses event', { type: 'response.created', response: {} }, 'openai_responses'],
    [
      'input_tokens with a total_tokens',
      { usage: { input_tokens: 1, total_tokens: 2 } },
      'openai_responses',
    ],
    ['a message', { type: 'message', usage: { input_tokens: 1 } }, 'anthropic_messages'],
    ['an Anthropic message_start', { type: 'message_start', message: {} }, 'anthropic_messages'],
    ['input_tokens alone', { usage: { input_tokens: 1, output_tokens: 2 } }, 'anthropic_messages'],
    ['Gemini usageMetadata', { usageMetadata: { promptTokenCount: 3 } }, 'gemini'],
    ['a Gemini modelVersion', { modelVersion: 'gemini-2.5-pro', candidates: [] }, 'gemini'],
    ['Ollama counts', { model: 'llama3.2', done: true, eval_count: 3 }, 'ollama'],
    ['an OpenAI error', { error: { message: 'x' } }, undefined],
    ['an Anthropic ping', { type: 'ping' }, undefined],
    ['an array', [{ usage: { prompt_tokens: 1 } }], undefined],
    ['null', null, undefined],
  ];

  for (const [name, document, format] of cases) {
    it(`detects ${format ?? 'nothing'} from ${name}`, () => {
      assert.equal(detectFormat(document), format);
    });
  }
});
