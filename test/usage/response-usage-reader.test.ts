import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  bodyKindOf,
  ResponseUsageReader,
  type BodyKind,
} from '../../src/usage/response/response-usage-reader.js';
import type { ProviderFormat } from '../../src/usage/token-usage.js';
import { chatJson, chatSse } from './fixtures/openai-chat.js';
import { bytesOf } from './read-usage.js';

describe('bodyKindOf', () => {
  const cases: [string | undefined, ProviderFormat | undefined, BodyKind][] = [
    ['text/event-stream', 'openai_chat', 'sse'],
    ['Text/Event-Stream; charset=utf-8', undefined, 'sse'],
    ['text/event-stream', 'ollama', 'sse'],
    ['application/x-ndjson', undefined, 'ndjson'],
    ['application/ndjson', 'openai_chat', 'ndjson'],
    ['application/json; charset=utf-8', 'ollama', 'ndjson'],
    [undefined, 'ollama', 'ndjson'],
    ['application/json', 'gemini', 'json'],
    ['text/html', 'openai_chat', 'json'],
    [undefined, undefined, 'json'],
  ];

  for (const [contentType, format, kind] of cases) {
    const of = `${contentType ?? 'no content-type'} of ${format ?? 'an unknown format'}`;
    it(`reads ${of} as ${kind}`, () => {
      assert.equal(bodyKindOf(contentType, format), kind);
    });
  }
});

describe('ResponseUsageReader', () => {
  const limits = ['maxEventBytes', 'maxBufferedJsonBytes', 'maxDecodedBytes'] as const;

  for (const name of limits) {
    it(`throws a RangeError naming ${name} when it is not a positive integer`, () => {
      for (const value of [-1, 1.5, Number.NaN]) {
        assert.throws(() => new ResponseUsageReader({ [name]: value }), {
          name: 'RangeError',
          message: new RegExp(`^${name} must be an integer`),
        });
      }
    });
  }

  it('accepts maxBufferedJsonBytes of 0, streaming every JSON body', () => {
    assert.doesNotThrow(() => new ResponseUsageReader({ maxBufferedJsonBytes: 0 }));
  });

  it('returns the same reading when finish is called again, ignoring later chunks', () => {
    const reader = new ResponseUsageReader({ format: 'openai_chat' });
    reader.feed(bytesOf(chatJson));

    const first = reader.finish();
    reader.feed(bytesOf('garbage'));

    assert.equal(reader.finish(), first);
    assert.ok(!(first instanceof Promise));
    assert.equal(first.bytes, Buffer.byteLength(chatJson));
  });

  it('counts the bytes that arrive after reading stopped', () => {
    const reader = new ResponseUsageReader({
      contentType: 'text/event-stream',
      maxEventBytes: 100,
    });

    reader.feed(bytesOf(`data: ${'x'.repeat(200)}`));
    reader.feed(bytesOf(chatSse));
    const reading = reader.finish();

    assert.ok(!(reading instanceof Promise));
    assert.equal(reading.missing, 'event_too_large');
    assert.equal(reading.bytes, 206 + Buffer.byteLength(chatSse));
  });
});
