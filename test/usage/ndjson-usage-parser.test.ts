import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';
import { ollamaChat } from './fixtures/ollama.js';
import { bytesOf, piecesOf, readChunksSync, splitAt } from './read-usage.js';

const NDJSON = { format: 'ollama', contentType: 'application/x-ndjson' } as const;
const LAST =
  '{"model":"llama3.2","done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":282}';
const READ = {
  usage: { input: 26, cachedInput: 0, cacheCreation: 0, output: 282, reasoning: 0, total: 308 },
  format: 'ollama',
  model: 'llama3.2',
  complete: true,
  rejected: [],
};

describe('NdjsonUsageParser', () => {
  const quirks: [string, string][] = [
    ['CRLF line ends', `{"model":"llama3.2","done":false}\r\n${LAST}\r\n`],
    ['blank lines', `\n{"model":"llama3.2","done":false}\n\n\n${LAST}\n\n`],
    ['lines that are not JSON', `not json\n{"broken":\n${LAST}\n`],
    ['a last line without its LF', `{"model":"llama3.2","done":false}\n${LAST}`],
  ];

  for (const [name, body] of quirks) {
    it(`reads a body with ${name} at every cut`, () => {
      const bytes = bytesOf(body);

      for (let at = 0; at <= bytes.length; at += 1) {
        const reading = readChunksSync(splitAt(bytes, at), NDJSON);
        assert.deepEqual(reading, { ...READ, bytes: bytes.length }, `cut at ${at}`);
      }
    });
  }

  it('reports no_usage, incomplete, when the body ends before the done line', () => {
    const body = bytesOf(ollamaChat.split('\n').slice(0, 2).join('\n'));

    const reading = readChunksSync([body], NDJSON);

    assert.deepEqual(reading, {
      format: 'ollama',
      model: 'llama3.2',
      complete: false,
      missing: 'no_usage',
      rejected: [],
      bytes: body.length,
    });
  });

  it('stops with event_too_large, holding at most the cap, on an endless line', () => {
    const reader = new ResponseUsageReader({ ...NDJSON, maxEventBytes: 4096 });
    let mostHeld = 0;

    reader.feed(bytesOf(`${LAST}\n{"model":"`));
    for (const chunk of piecesOf(Buffer.alloc(100_000, 'x'), 1000)) {
      reader.feed(chunk);
      mostHeld = Math.max(mostHeld, reader.retainedBytes);
    }
    const reading = reader.finish();

    assert.ok(mostHeld <= 4096 + 1000, `held ${mostHeld} bytes`);
    assert.ok(!(reading instanceof Promise));
    assert.deepEqual(reading.usage, READ.usage);
    assert.equal(reading.missing, 'event_too_large');
    assert.equal(reading.complete, false);
  });

  it('reads a Content-Type of Ollama JSON as NDJSON', () => {
    const body = bytesOf(`${LAST}\n`);

    const reading = readChunksSync(piecesOf(body, 3), { format: 'ollama' });

    assert.deepEqual(reading, { ...READ, bytes: body.length });
  });
});
