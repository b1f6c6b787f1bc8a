import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ALL_CASES, STREAMED_CASES } from './fixtures/all-cases.js';
import { bytesOf, piecesOf, readChunksSync, splitAt } from './read-usage.js';

const JSON_CASES = ALL_CASES.filter((c) => !STREAMED_CASES.includes(c));

describe('ResponseUsageReader chunking', () => {
  describe('SSE and NDJSON samples', () => {
    for (const sample of STREAMED_CASES) {
      it(`reads ${sample.name} alike when cut in two at every byte`, () => {
        const body = bytesOf(sample.body);
        const expected = { ...sample.expected, bytes: body.length };

        for (let at = 0; at <= body.length; at += 1) {
          const reading = readChunksSync(splitAt(body, at), sample.options);
          assert.deepEqual(reading, expected, `cut at byte ${at}`);
        }
      });

      it(`reads ${sample.name} alike when fed one byte at a time`, () => {
        const body = bytesOf(sample.body);

        const reading = readChunksSync(piecesOf(body, 1), sample.options);

        assert.deepEqual(reading, { ...sample.expected, bytes: body.length });
      });
    }
  });

  describe('JSON samples past the buffering limit', () => {
    for (const sample of JSON_CASES) {
      it(`streams ${sample.name} to the same reading when cut in two at every byte`, () => {
        const body = bytesOf(sample.body);
        const options = { ...sample.options, maxBufferedJsonBytes: 0 };
        const expected = { ...sample.expected, bytes: body.length };

        for (let at = 0; at <= body.length; at += 1) {
          const reading = readChunksSync(splitAt(body, at), options);
          assert.deepEqual(reading, expected, `cut at byte ${at}`);
        }
      });

      it(`streams ${sample.name} to the same reading when fed one byte at a time`, () => {
        const body = bytesOf(sample.body);
        const options = { ...sample.options, maxBufferedJsonBytes: 16 };

        const reading = readChunksSync(piecesOf(body, 1), options);

        assert.deepEqual(reading, { ...sample.expected, bytes: body.length });
      });
    }
  });
});
