import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';
import { SseUsageParser } from '../../src/usage/response/sse-usage-parser.js';
import { anthropicSse, anthropicSseHead } from './fixtures/anthropic.js';
import { vllmSse } from './fixtures/openai-chat.js';
import { bytesOf, piecesOf, readChunksSync, splitAt } from './read-usage.js';

const USAGE =
  '{"choices":[],"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}';
const SSE = { format: 'openai_chat', contentType: 'text/event-stream' } as const;
const READ = {
  usage: { input: 3, cachedInput: 0, cacheCreation: 0, output: 4, reasoning: 0, total: 7 },
  format: 'openai_chat',
  model: 'm',
  complete: true,
  rejected: [],
};

const MIB = 1024 * 1024;

describe('SseUsageParser', () => {
  describe('quirks', () => {
    const quirks: [string, string][] = [
      ['LF line ends', `data: ${USAGE}\n\ndata: [DONE]\n\n`],
      ['CRLF line ends', `data: ${USAGE}\r\n\r\ndata: [DONE]\r\n\r\n`],
      ['CR line ends', `data: ${USAGE}\r\rdata: [DONE]\r\r`],
      ['mixed line ends', `data: ${USAGE}\r\n\ndata: [DONE]\r\r\n`],
      ['no space after data:', `data:${USAGE}\n\ndata:[DONE]\n\n`],
      [
        'data split over several data: lines',
        'data: {"choices":[],\ndata: "model":"m",\ndata: "usage":{"prompt_tokens":3,\n' +
          'data: "completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n',
      ],
      [
        'comment lines',
        `: keepalive\n\n: OPENROUTER PROCESSING\n\ndata: ${USAGE}\n: ping\n\ndata: [DONE]\n\n`,
      ],
      [
        'event, id and retry fields',
        `retry: 3000\n\nevent: chunk\nid: 41\ndata: ${USAGE}\n\nid: 42\ndata: [DONE]\n\n`,
      ],
      ['unknown fields', `foo: bar\nbaz\ndata: ${USAGE}\n\ndata: [DONE]\n\n`],
      ['a final event without its blank line', `data: ${USAGE}\n\ndata: [DONE]`],
      ['a final event with one line end', `data: ${USAGE}\n\ndata: [DONE]\n`],
      ['a final usage event without line ends', `data: [DONE]\n\ndata: ${USAGE}`],
      [
        'data that is not JSON',
        `data: hello world\n\ndata: {"broken":\n\ndata: ${USAGE}\n\ndata: [DONE]\n\n`,
      ],
      ['a byte-order mark', `\uFEFFdata: ${USAGE}\n\ndata: [DONE]\n\n`],
      ['whitespace around [DONE]', `data: ${USAGE}\n\ndata:  [DONE] \n\n`],
    ];

    for (const [name, body] of quirks) {
      it(`reads a stream with ${name} at every cut`, () => {
        const bytes = bytesOf(body);
        const expected = { ...READ, bytes: bytes.length };

        for (let at = 0; at <= bytes.length; at += 1) {
          assert.deepEqual(readChunksSync(splitAt(bytes, at), SSE), expected, `cut at ${at}`);
        }
        assert.deepEqual(readChunksSync(piecesOf(bytes, 1), SSE), expected);
      });
    }

    it('counts a CRLF split between chunks once', () => {
      const chunks = [`data: ${USAGE}\r`, '\n\r', '\n', 'data: [DONE]\r', '\n\r\n'].map(bytesOf);

      const reading = readChunksSync(chunks, SSE);

      assert.deepEqual(reading, { ...READ, bytes: chunks.reduce((n, c) => n + c.length, 0) });
    });
  });

  describe('chunks passed over unparsed', () => {
    const delta = (content: string) =>
      `data: {"object":"chat.completion.chunk","model":"m","choices":[{"delta":` +
      `{"content":"${content}"}}],"usage":null}\n\n`;
    const deltas = delta('hé') + delta('llo \\"usage\\": {') + delta('\\u00e9');
    const finals: [string, string][] = [
      ['with whitespace around the colon', '"usage" \t: {'],
      ['split over data: lines', '"usage"\ndata: :\ndata: {'],
      ['with its key spelt with escapes', '"\\u0075s\\u0061ge":{'],
    ];

    for (const [name, key] of finals) {
      it(`reads a usage object ${name} after usage:null deltas, at every cut`, () => {
        const final =
          `data: {"object":"chat.completion.chunk","model":"m","choices":[],${key}` +
          `"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n`;
        const bytes = bytesOf(deltas + final);
        const expected = { ...READ, bytes: bytes.length };

        for (let at = 0; at <= bytes.length; at += 1) {
          assert.deepEqual(readChunksSync(splitAt(bytes, at), SSE), expected, `cut at ${at}`);
        }
      });
    }
  });

  describe('ends', () => {
    it('reports no_usage, incomplete, when the stream ends without usage or [DONE]', () => {
      const chunk = '{"object":"chat.completion.chunk","model":"m","choices":[]}';
      const body = bytesOf(`data: ${chunk}\n\n`);

      const reading = readChunksSync([body], SSE);

      assert.deepEqual(reading, {
        format: 'openai_chat',
        model: 'm',
        complete: false,
        missing: 'no_usage',
        rejected: [],
        bytes: body.length,
      });
    });

    it('reports final usage, incomplete, when a usage chunk comes but [DONE] does not', () => {
      const body = bytesOf(`data: ${USAGE}\n\n`);

      const reading = readChunksSync([body], SSE);

      assert.deepEqual(reading, { ...READ, complete: false, bytes: body.length });
    });

    it('keeps input counts of Anthropic cut after message_start; output provisional', () => {
      const body = bytesOf(anthropicSseHead);

      const reading = readChunksSync([body], { contentType: 'text/event-stream' });

      assert.deepEqual(reading, {
        usage: {
          input: 6225,
          cachedInput: 5000,
          cacheCreation: 1200,
          output: 1,
          reasoning: 0,
          total: 6226,
        },
        format: 'anthropic_messages',
        model: 'claude-sonnet-4-20250514',
        complete: false,
        outputProvisional: true,
        rejected: [],
        bytes: body.length,
      });
    });

    it('takes the output of an Anthropic stream cut after message_delta as final', () => {
      const body = bytesOf(anthropicSse.slice(0, anthropicSse.indexOf('event: message_stop')));

      const reading = readChunksSync([body], { contentType: 'text/event-stream' });

      assert.equal(reading.complete, false);
      assert.equal(reading.usage?.output, 15);
      assert.equal(reading.outputProvisional, undefined);
    });

    it('marks the running count of a vLLM stream cut before its last chunk provisional', () => {
      const body = bytesOf(vllmSse.slice(0, vllmSse.lastIndexOf('data: {')));

      const reading = readChunksSync([body], SSE);

      assert.equal(reading.complete, false);
      assert.equal(reading.usage?.output, 4);
      assert.equal(reading.outputProvisional, true);
    });

    it('reports no_usage for an empty stream', () => {
      assert.deepEqual(readChunksSync([], SSE), {
        format: 'openai_chat',
        complete: false,
        missing: 'no_usage',
        rejected: [],
        bytes: 0,
      });
    });
  });

  describe('event size', () => {
    it('stops with event_too_large, holding at most the cap, on an endless line', () => {
      const reader = new ResponseUsageReader({ ...SSE, maxEventBytes: MIB });
      const piece = Buffer.alloc(64 * 1024, 'x');
      let mostHeld = 0;

      reader.feed(bytesOf('data: '));
      for (let i = 0; i < 160; i += 1) {
        reader.feed(piece);
        mostHeld = Math.max(mostHeld, reader.retainedBytes);
      }
      const reading = reader.finish();

      assert.ok(mostHeld <= MIB + piece.length, `held ${mostHeld} bytes`);
      assert.equal(reader.retainedBytes, 0);
      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: false,
        missing: 'event_too_large',
        rejected: [],
        bytes: 6 + 160 * piece.length,
      });
    });

    it('keeps what earlier events said when a later event is too large', () => {
      const reader = new ResponseUsageReader({
        contentType: 'text/event-stream',
        maxEventBytes: 4096,
      });

      reader.feed(bytesOf(anthropicSseHead));
      reader.feed(bytesOf(`data: "${'x'.repeat(5000)}`));
      const reading = reader.finish();

      assert.ok(!(reading instanceof Promise));
      assert.equal(reading.missing, 'event_too_large');
      assert.equal(reading.complete, false);
      assert.equal(reading.usage?.input, 6225);
    });

    it('stops when many data lines make one event too large', () => {
      const parser = new SseUsageParser({ maxEventBytes: 1000 });

      for (let i = 0; i < 100; i += 1) parser.feed(bytesOf('data: 0123456789\n'));

      assert.equal(parser.stopped, true);
      assert.equal(parser.finish().failure, 'event_too_large');
    });

    it('does not count comment lines, which are not held', () => {
      const comments = bytesOf(': ping\n'.repeat(1000));
      const body = [comments, bytesOf(`data: ${USAGE}\n\ndata: [DONE]\n\n`)];

      const reading = readChunksSync(body, { ...SSE, maxEventBytes: 200 });

      assert.deepEqual(reading, { ...READ, bytes: body[0]!.length + body[1]!.length });
    });

    it('accepts an event of exactly the cap', () => {
      const line = `data: ${USAGE}`;
      const body = bytesOf(`${line}\n\ndata: [DONE]\n\n`);

      const reading = readChunksSync([body], { ...SSE, maxEventBytes: line.length + 1 });

      assert.deepEqual(reading, { ...READ, bytes: body.length });
    });
  });
});
