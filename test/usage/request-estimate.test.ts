import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import type { LlmRequest } from '../../src/usage/request/llm-request.js';
import { estimateTokens } from '../../src/usage/request/piece-estimate.js';
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

  it('estimates a prompt longer than tokenize_max_chars from its pieces, near exact', () => {
    const text = 'The shipment left the Rotterdam hub on the second of November. '.repeat(40);

    const estimate = estimateRequest(llm([text], { messageCount: 0 }), SETTINGS);

    assert.equal(estimate.input, estimateTokens(text));
    const exact = countTokens(text);
    const ratio = estimate.input / exact;
    assert.ok(ratio >= 0.95 && ratio <= 1.3, `${estimate.input} for ${exact} exact`);
  });

  it('tokenizes a prompt exactly when all its texts together fit tokenize_max_chars', () => {
    const texts = ['a'.repeat(600), 'b'.repeat(400)];

    const estimate = estimateRequest(llm(texts, { messageCount: 0 }), SETTINGS);

    assert.equal(estimate.input, countTokens(texts[0]!) + countTokens(texts[1]!));
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
