import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type {
  UsageReaderOptions,
  UsageReading,
} from '../../src/usage/response/response-usage-reader.js';
import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';
import { chatJson } from './fixtures/openai-chat.js';
import { bigEmbeddingsJson } from './fixtures/openai-embeddings.js';
import { bytesOf, piecesOf, readChunksSync } from './read-usage.js';

const CHAT = { format: 'openai_chat', contentType: 'application/json' } as const;
const MIB = 1024 * 1024;

// Reads `body` held whole and streamed past the buffering limit, and checks both agree.
function bothWays(body: Uint8Array, options: UsageReaderOptions = CHAT): UsageReading {
  const held = readChunksSync(piecesOf(body, 7), options);
  const streamed = readChunksSync(piecesOf(body, 7), { ...options, maxBufferedJsonBytes: 0 });

  assert.deepEqual(streamed, held);
  return held;
}

const invalid = (bytes: number): UsageReading => ({
  format: 'openai_chat',
  complete: false,
  missing: 'invalid_json',
  rejected: [],
  bytes,
});

describe('JsonUsageParser', () => {
  describe('bodies that are not one JSON value', () => {
    const cases: [string, Uint8Array][] = [
      ['an HTML error page', bytesOf('<html><body><h1>502 Bad Gateway</h1></body></html>')],
      ['a body cut short', bytesOf(chatJson.slice(0, -40))],
      ['a body cut inside a number', bytesOf('{"usage":{"prompt_tokens":12')],
      ['trailing garbage', bytesOf(`${chatJson}x`)],
      ['two values', bytesOf(`${chatJson}${chatJson}`)],
      [
        'invalid UTF-8',
        Buffer.concat([bytesOf('{"model":"'), Buffer.from([0xc3, 0x28]), bytesOf('"}')]),
      ],
      ['whitespace only', bytesOf('  \n ')],
      ['a missing comma', bytesOf('{"usage":{"prompt_tokens":1 "completion_tokens":2}}')],
    ];

    for (const [name, body] of cases) {
      it(`reports invalid_json and no usage for ${name}`, () => {
        assert.deepEqual(bothWays(body), invalid(body.length));
      });
    }
  });

  describe('bodies that are JSON', () => {
    it('reports no_usage, complete, for an empty body', () => {
      assert.deepEqual(bothWays(new Uint8Array(0)), {
        format: 'openai_chat',
        complete: true,
        missing: 'no_usage',
        rejected: [],
        bytes: 0,
      });
    });

    it('accepts whitespace and a byte-order mark around the value', () => {
      const body = bytesOf(`\uFEFF \n${chatJson}\r\n`);

      assert.equal(bothWays(body).usage?.input, 1117);
    });

    it('lets a later duplicate key replace an earlier one, as JSON.parse does', () => {
      const replaced = bytesOf(
        '{"usage":{"prompt_tokens":5},"usage":{"prompt_tokens":9,"completion_tokens":1}}',
      );
      const nulled = bytesOf('{"usage":{"prompt_tokens":5},"model":"a","usage":null,"model":"b"}');

      assert.deepEqual(bothWays(replaced).usage, {
        input: 9,
        cachedInput: 0,
        cacheCreation: 0,
        output: 1,
        reasoning: 0,
        total: 10,
      });
      assert.deepEqual(bothWays(nulled), {
        format: 'openai_chat',
        model: 'b',
        complete: true,
        missing: 'no_usage',
        rejected: [],
        bytes: nulled.length,
      });
    });

    it('rejects the same untrusted values either way', () => {
      const body = bytesOf(
        JSON.stringify({
          model: 'x'.repeat(5000),
          usage: {
            prompt_tokens: '12',
            completion_tokens: { value: 1 },
            total_tokens: -1,
            prompt_tokens_details: { cached_tokens: 1e20 },
            completion_tokens_details: [0],
          },
        }),
      );

      const reading = bothWays(body);

      assert.equal(reading.usage, undefined);
      assert.deepEqual(reading.rejected.sort(), [
        'model',
        'usage.completion_tokens',
        'usage.prompt_tokens',
        'usage.prompt_tokens_details.cached_tokens',
        'usage.total_tokens',
      ]);
    });

    it('detects the format from the kept fields when none is given', () => {
      const body = bytesOf(chatJson);

      assert.equal(bothWays(body, { contentType: 'application/json' }).format, 'openai_chat');
    });
  });

  describe('deep nesting', () => {
    const DEPTH = 100_000;
    const deep = '[{"a":'.repeat(DEPTH) + '1' + '}]'.repeat(DEPTH);
    const withUsage = `{"usage":{"prompt_tokens":5,"completion_tokens":2},"deep":${deep}}`;

    it(`reads usage beside ${DEPTH} levels of nesting, held or streamed`, () => {
      const body = bytesOf(withUsage);

      const reading = bothWays(body);

      assert.deepEqual(reading.usage, {
        input: 5,
        cachedInput: 0,
        cacheCreation: 0,
        output: 2,
        reasoning: 0,
        total: 7,
      });
    });

    it('reads a deep body past 1 MiB in 64 KiB chunks with the default limits', () => {
      const body = bytesOf(`{"pad":"${'p'.repeat(MIB)}",${withUsage.slice(1)}`);

      const reading = readChunksSync(piecesOf(body, 64 * 1024), CHAT);

      assert.equal(reading.usage?.total, 7);
      assert.equal(reading.complete, true);
    });

    it('reports invalid_json for unbalanced deep nesting', () => {
      const body = bytesOf('['.repeat(DEPTH) + ']'.repeat(DEPTH - 1));

      assert.deepEqual(bothWays(body), invalid(body.length));
    });
  });

  describe('large bodies', () => {
    it('counts an embeddings body past 1 MiB exactly while holding a few KiB', () => {
      const body = bytesOf(bigEmbeddingsJson(600, 256, 123_456));
      const reader = new ResponseUsageReader({ format: 'openai_embeddings' });
      let fed = 0;
      let heldAfterSwitch = 0;

      for (const chunk of piecesOf(body, 64 * 1024)) {
        reader.feed(chunk);
        fed += chunk.length;
        if (fed > MIB) heldAfterSwitch = Math.max(heldAfterSwitch, reader.retainedBytes);
      }
      const reading = reader.finish();

      assert.ok(body.length > 2 * MIB);
      assert.ok(heldAfterSwitch <= 4096, `held ${heldAfterSwitch} bytes`);
      assert.deepEqual(reading, {
        usage: {
          input: 123_456,
          cachedInput: 0,
          cacheCreation: 0,
          output: 0,
          reasoning: 0,
          total: 123_456,
        },
        format: 'openai_embeddings',
        model: 'text-embedding-3-large',
        complete: true,
        rejected: [],
        bytes: body.length,
      });
    });

    it('reads a chat completion carrying megabytes of base64 audio', () => {
      const audio = Buffer.alloc(3 * MIB, 7).toString('base64');
      const json = JSON.parse(chatJson) as { choices: { message: object }[] };
      json.choices[0]!.message = { role: 'assistant', audio: { id: 'audio_1', data: audio } };
      const body = bytesOf(JSON.stringify(json));
      const reader = new ResponseUsageReader(CHAT);

      for (const chunk of piecesOf(body, 64 * 1024)) reader.feed(chunk);
      const reading = reader.finish();

      assert.ok(!(reading instanceof Promise));
      assert.equal(reading.usage?.total, 1427);
      assert.equal(reading.model, 'o4-mini-2025-04-16');
    });

    it('stops with event_too_large on a number longer than 4 KiB', () => {
      const body = bytesOf(`{"n":${'1'.repeat(8000)},"usage":{"prompt_tokens":1}}`);

      const reading = readChunksSync([body], { ...CHAT, maxBufferedJsonBytes: 1024 });

      assert.deepEqual(reading, { ...invalid(body.length), missing: 'event_too_large' });
    });
  });
});
