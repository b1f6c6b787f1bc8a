import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ALL_CASES } from './fixtures/all-cases.js';
import { openAiErrorJson } from './fixtures/openai-chat.js';
import { bytesOf, readChunksSync } from './read-usage.js';

describe('ResponseUsageReader', () => {
  describe('provider samples', () => {
    for (const sample of ALL_CASES) {
      it(`reads the exact usage and model of ${sample.name}`, () => {
        const body = bytesOf(sample.body);

        const reading = readChunksSync([body], sample.options);

        assert.deepEqual(reading, { ...sample.expected, bytes: body.length });
      });
    }
  });

  describe('format detection', () => {
    for (const sample of ALL_CASES) {
      it(`detects the format of ${sample.name} when none is given`, () => {
        const body = bytesOf(sample.body);
        const { contentType } = sample.options;
        const ndjson = sample.options.format === 'ollama';
        const options = { contentType: ndjson ? 'application/x-ndjson' : contentType };

        const reading = readChunksSync([body], options);

        assert.deepEqual(reading, { ...sample.expected, bytes: body.length });
      });
    }
  });

  describe('error bodies', () => {
    it('reports no_usage when the body is an OpenAI error', () => {
      const body = bytesOf(openAiErrorJson);

      const reading = readChunksSync([body], { format: 'openai_chat' });

      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: true,
        missing: 'no_usage',
        rejected: [],
        bytes: body.length,
      });
    });
  });
});
