import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseRequestBody } from '../../src/usage/request/llm-request.js';
import { formatFromPath } from '../../src/usage/provider-format.js';
import { routeFormat } from '../../src/usage/usage-policy.js';

function request(body: unknown, format?: Parameters<typeof parseRequestBody>[1]) {
  const parsed = parseRequestBody(Buffer.from(JSON.stringify(body)), format);
  assert.ok(parsed.ok, 'expected the body to parse');
  return parsed.request;
}

describe('parseRequestBody', () => {
  it('reads model, stream and max_tokens from an OpenAI chat request', () => {
    const parsed = request({
      model: 'gpt-4o-mini',
      stream: true,
      max_tokens: 256,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'héllo 世界' }] },
      ],
    });

    assert.equal(parsed.model, 'gpt-4o-mini');
    assert.equal(parsed.stream, true);
    assert.equal(parsed.maxOutputTokens, 256);
    assert.deepEqual(parsed.promptTexts, ['Be brief.', 'héllo 世界']);
    assert.equal(parsed.messageCount, 2);
  });

  const caps = [
    { name: 'max_completion_tokens', body: { max_completion_tokens: 10, max_tokens: 99 } },
    { name: 'max_output_tokens (Responses)', body: { max_output_tokens: 10 } },
    { name: 'generationConfig (Gemini)', body: { generationConfig: { maxOutputTokens: 10 } } },
    { name: 'options.num_predict (Ollama)', body: { options: { num_predict: 10 } } },
  ];
  for (const { name, body } of caps) {
    it(`reads the output cap from ${name}`, () => {
      assert.equal(request(body).maxOutputTokens, 10);
    });
  }

  it('ignores output caps that are not positive whole numbers', () => {
    assert.equal(request({ max_tokens: -5 }).maxOutputTokens, undefined);
    assert.equal(request({ max_tokens: '100' }).maxOutputTokens, undefined);
    assert.equal(request({ max_tokens: 1.5 }).maxOutputTokens, undefined);
  });

  it('collects prompt text from Anthropic, Responses, Gemini and legacy shapes', () => {
    const anthropic = request({
      system: [{ type: 'text', text: 'sys' }],
      messages: [{ role: 'user', content: 'a' }],
    });
    const responses = request({ instructions: 'inst', input: [{ role: 'user', content: 'b' }] });
    const gemini = request({
      systemInstruction: { parts: [{ text: 'g-sys' }] },
      contents: [{ role: 'user', parts: [{ text: 'c' }] }],
    });
    const legacy = request({ prompt: ['d', 'e'] });

    assert.deepEqual(anthropic.promptTexts, ['sys', 'a']);
    assert.deepEqual(responses.promptTexts, ['inst', 'b']);
    assert.deepEqual(gemini.promptTexts, ['c', 'g-sys']);
    assert.deepEqual(legacy.promptTexts, ['d', 'e']);
  });

  it('treats an Ollama request without "stream" as streamed, as Ollama does', () => {
    assert.equal(request({ model: 'llama3' }, 'ollama').stream, true);
    assert.equal(request({ model: 'llama3', stream: false }, 'ollama').stream, false);
    assert.equal(request({ model: 'gpt-4o' }, 'openai_chat').stream, false);
  });

  it('stops collecting text at a bounded depth', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1000; i++) deep = { content: deep };

    const parsed = request({ messages: [deep] });

    assert.deepEqual(parsed.promptTexts, []);
  });

  it('returns a problem value, not an exception, for bodies that are not JSON objects', () => {
    assert.deepEqual(parseRequestBody(Buffer.from('{"model":')), {
      ok: false,
      problem: 'not_json',
    });
    assert.deepEqual(parseRequestBody(Buffer.from('[1,2]')), {
      ok: false,
      problem: 'not_an_object',
    });
    assert.deepEqual(parseRequestBody(Buffer.from([0xff, 0xfe])), {
      ok: false,
      problem: 'not_json',
    });
  });
});

describe('formatFromPath', () => {
  const cases = [
    ['/v1/chat/completions', 'openai_chat'],
    ['/openai/deployments/x/chat/completions?api-version=2024-06-01', 'openai_chat'],
    ['/v1/completions', 'openai_completions'],
    ['/v1/embeddings', 'openai_embeddings'],
    ['/v1/responses', 'openai_responses'],
    ['/v1/messages', 'anthropic_messages'],
    ['/v1beta/models/gemini-2.0-flash:generateContent', 'gemini'],
    ['/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', 'gemini'],
    ['/api/chat', 'ollama'],
    ['/api/generate', 'ollama'],
    ['/healthz', undefined],
  ] as const;

  for (const [path, format] of cases) {
    it(`maps ${path} to ${format}`, () => {
      assert.equal(formatFromPath(path), format);
    });
  }
});

describe('routeFormat', () => {
  const routes = [
    { pathPrefix: '/claude/', format: 'anthropic_messages' as const },
    { routeName: 'gemini-route', format: 'gemini' as const },
    { pathPrefix: '/both/', routeName: 'r', format: 'ollama' as const },
  ];

  it('matches on path prefix, route name, or both, first match winning', () => {
    assert.equal(routeFormat(routes, '/claude/v1/chat', undefined), 'anthropic_messages');
    assert.equal(routeFormat(routes, '/x', 'gemini-route'), 'gemini');
    assert.equal(routeFormat(routes, '/both/x', 'r'), 'ollama');
    assert.equal(routeFormat(routes, '/both/x', 'other'), undefined);
  });
});
