import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { mayMatter, extractUsage } from '../../src/usage/response/provider-extractors.js';
import { anyWord, objectKey } from '../../src/usage/response/extractors/text-signals.js';

describe('objectKey', () => {
  const usage = objectKey(['usage']);
  const cases: [string, string, boolean][] = [
    ['a usage object', '{"choices":[],"usage":{"prompt_tokens":1}}', true],
    ['JSON whitespace around the colon', '{"usage" \t:\r\n {"prompt_tokens":1}}', true],
    ['an empty usage object', '{"usage":{}}', true],
    ['a key spelt with escapes', '{"\\u0075sage":{"prompt_tokens":1}}', true],
    ['usage null', '{"choices":[{"delta":{"content":"hi"}}],"usage":null}', false],
    ['usage as a number or an array', '{"usage":7,"x":{"usage":[1]}}', false],
    ['no usage key', '{"choices":[{"delta":{"content":"hi"}}]}', false],
    ['usage only inside a string', '{"content":"the \\"usage\\": {"}', false],
    ['an escape of another letter', '{"content":"h\\u00e9llo","usage":null}', false],
  ];

  for (const [name, text, expected] of cases) {
    it(`says ${expected} for ${name}`, () => {
      assert.equal(usage(text), expected);
    });
  }

  it('matches escapes in either case of hex digit', () => {
    const metadata = objectKey(['usageMetadata']);

    assert.equal(metadata('{"usage\\u004Detadata":{}}'), true);
    assert.equal(metadata('{"usage\\u004detadata":{}}'), true);
  });

  it('refuses a key that is not ASCII, at construction', () => {
    assert.throws(() => objectKey(['usagé']), RangeError);
  });
});

describe('anyWord', () => {
  it('says whether the text holds any of the words', () => {
    const signal = anyWord(['usage', 'message_stop']);

    assert.equal(signal('{"type":"message_stop"}'), true);
    assert.equal(signal('{"type":"ping"}'), false);
  });
});

describe('mayMatter', () => {
  // Any document an OpenAI-style extractor reads usage from, however it is
  // serialised, must be let through: a false here is usage lost.
  const count = fc.integer({ min: 0, max: 1_000_000 });
  const usageValue = fc.oneof(
    fc.constant(null),
    fc.record(
      { prompt_tokens: count, completion_tokens: count, total_tokens: count },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const document = fc.record(
    {
      model: fc.string(),
      choices: fc.array(fc.record({ delta: fc.record({ content: fc.string() }) })),
      usage: usageValue,
    },
    { requiredKeys: ['model'] },
  );

  for (const format of ['openai_chat', 'openai_completions', 'openai_embeddings'] as const) {
    it(`never passes over a ${format} document that states usage`, () => {
      fc.assert(
        fc.property(document, fc.constantFrom(undefined, 2, '\t'), (doc, space) => {
          const text = JSON.stringify(doc, null, space);
          if (extractUsage(JSON.parse(text), format).usage === undefined) return;

          assert.equal(mayMatter(text, format), true, text);
        }),
        { numRuns: 2000 },
      );
    });
  }
});
