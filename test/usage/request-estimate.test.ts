import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import type { LlmRequest } from '../../src/usage/request/llm-request.js';
import { defaultEstimate, estimateRequest } from '../../src/usage/request/prompt-estimator.js';
import { withStreamUsage } from '../../src/usage/request/stream-usage-option.js';
import { parseRequestBody } from '../../src/usage/request/llm-request.js';

const SETTINGS = { defaultOutputTokens: 1024, defaultInputTokens: 300, tokenizeMaxChars: 1000 };

function llm(texts: string[], extra: Partial<LlmRequest> = {}): LlmRequest {
  return { stream: false, promptTexts: texts, messageCount: texts.length, ...extra };
}

describe('estimateRequest', () => {
  it('counts prompt tokens exactly with o200k, plus 4 per message', () => {
    const texts = ['You are terse.', 'héllo 世界 🙂, how are you?'];

    const estimate = estimateRequest(llm(texts), SETTINGS);

    const exact = countTokens(texts[0]!) + countTokens(texts[1]!);
    assert.equal(estimate.input, exact + 2 * 4);
  });

  it('takes the output from the request cap, else the default allowance', () => {
    assert.equal(estimateRequest(llm(['x'], { maxOutputTokens: 77 }), SETTINGS).output, 77);
    assert.equal(estimateRequest(llm(['x']), SETTINGS).output, 1024);
  });

  it('extrapolates past tokenize_max_chars from the tokenized part', () => {
    const text = 'lorem ipsum dolor sit amet '.repeat(400);

    const estimate = estimateRequest(llm([text], { messageCount: 0 }), SETTINGS);

    const head = countTokens(text.slice(0, 1000));
    const expected = head + Math.ceil(((text.length - 1000) * head) / 1000);
    assert.equal(estimate.input, expected);
    const exact = countTokens(text);
    assert.ok(Math.abs(estimate.input - exact) / exact < 0.05, 'within 5% of exact');
  });

  it('falls back to 4 characters a token when nothing may be tokenized', () => {
    const estimate = estimateRequest(llm(['a'.repeat(400)], { messageCount: 0 }), {
      ...SETTINGS,
      tokenizeMaxChars: 0,
    });

    assert.equal(estimate.input, 100);
  });

  it('uses the defaults when there is no readable body', () => {
    assert.deepEqual(defaultEstimate(SETTINGS), { input: 300, output: 1024 });
  });
});

describe('withStreamUsage', () => {
  function apply(body: string, format: 'openai_chat' | 'anthropic_messages' = 'openai_chat') {
    const bytes = Buffer.from(body);
    const parsed = parseRequestBody(bytes, format);
    assert.ok(parsed.ok);
    return withStreamUsage(bytes, parsed.json, parsed.request, format)?.toString();
  }

  it('splices stream_options in and keeps every other byte as sent', () => {
    const body =
      '{"model":"gpt-4o",  "stream": true, "messages":[{"role":"user","content":"é"}]}\n';

    const updated = apply(body);

    assert.equal(
      updated,
      '{"model":"gpt-4o",  "stream": true, "messages":[{"role":"user","content":"é"}]' +
        ',"stream_options":{"include_usage":true}}\n',
    );
    assert.deepEqual(JSON.parse(updated!).stream_options, { include_usage: true });
  });

  it('sets include_usage inside existing stream_options', () => {
    const updated = apply('{"stream":true,"stream_options":{"include_usage":false,"x":1}}');

    assert.deepEqual(JSON.parse(updated!).stream_options, { include_usage: true, x: 1 });
  });

  it('replaces stream_options: null', () => {
    const updated = apply('{"stream":true,"stream_options":null}');

    assert.deepEqual(JSON.parse(updated!), {
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('leaves alone requests that ask for usage, are not streamed, or lack the option', () => {
    assert.equal(apply('{"stream":true,"stream_options":{"include_usage":true}}'), undefined);
    assert.equal(apply('{"stream":false}'), undefined);
    assert.equal(apply('{"stream":true}', 'anthropic_messages'), undefined);
  });
});
