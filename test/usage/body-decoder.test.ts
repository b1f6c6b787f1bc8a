import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';

import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';
import { anthropicSse, anthropicSseHead } from './fixtures/anthropic.js';
import { ALL_CASES } from './fixtures/all-cases.js';
import { chatJson } from './fixtures/openai-chat.js';
import { bytesOf, piecesOf, readChunks } from './read-usage.js';

const ENCODINGS: [string, (body: Buffer) => Buffer][] = [
  ['gzip', (body) => zlib.gzipSync(body)],
  ['x-gzip', (body) => zlib.gzipSync(body)],
  ['deflate', (body) => zlib.deflateSync(body)],
  ['deflate', (body) => zlib.deflateRawSync(body)],
  ['br', (body) => zlib.brotliCompressSync(body)],
];

const CHAT = { format: 'openai_chat', contentType: 'application/json' } as const;
const chatCase = ALL_CASES.find((c) => c.body === chatJson)!;

describe('body decoding', () => {
  describe('compressed provider samples', () => {
    for (const [encoding, compress] of ENCODINGS) {
      const raw = compress === ENCODINGS[3]![1] ? ' (raw deflate)' : '';

      it(`reads every sample alike when ${encoding}${raw}, in 7-byte chunks`, async () => {
        for (const sample of ALL_CASES) {
          const body = compress(bytesOf(sample.body));
          const options = { ...sample.options, contentEncoding: encoding };

          const reading = await readChunks(piecesOf(body, 7), options);

          assert.deepEqual(reading, { ...sample.expected, bytes: body.length }, sample.name);
        }
      });
    }

    it('reads a gzip body fed one byte at a time', async () => {
      const body = zlib.gzipSync(bytesOf(anthropicSse));
      const sample = ALL_CASES.find((c) => c.body === anthropicSse)!;

      const reading = await readChunks(piecesOf(body, 1), {
        ...sample.options,
        contentEncoding: 'gzip',
      });

      assert.deepEqual(reading, { ...sample.expected, bytes: body.length });
    });

    it('reads alike when feeds are not awaited', async () => {
      const body = zlib.gzipSync(bytesOf(chatJson));
      const reader = new ResponseUsageReader({ ...CHAT, contentEncoding: 'GZIP' });

      const feeds = piecesOf(body, 5).map((chunk) => reader.feed(chunk));
      const reading = await reader.finish();

      assert.ok(feeds.every((feed) => feed instanceof Promise));
      assert.deepEqual(reading, { ...chatCase.expected, bytes: body.length });
    });
  });

  describe('identity', () => {
    for (const encoding of [undefined, '', 'identity', ' Identity ']) {
      it(`stays synchronous for content-encoding ${JSON.stringify(encoding)}`, () => {
        const reader = new ResponseUsageReader({ ...CHAT, contentEncoding: encoding });

        assert.equal(reader.feed(bytesOf(chatJson)), undefined);
        const reading = reader.finish();

        assert.ok(!(reading instanceof Promise));
        assert.deepEqual(reading.usage, chatCase.expected.usage);
      });
    }
  });

  describe('failures', () => {
    it('reports no_usage, without an error, for an empty gzip body', async () => {
      const reading = await readChunks([], { ...CHAT, contentEncoding: 'gzip' });

      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: true,
        missing: 'no_usage',
        rejected: [],
        bytes: 0,
      });
    });

    it('reports decode_error for a body that is not gzip', async () => {
      const body = bytesOf('<html>not gzip at all</html>');

      const reading = await readChunks([body], { ...CHAT, contentEncoding: 'gzip' });

      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: false,
        missing: 'decode_error',
        rejected: [],
        bytes: body.length,
      });
    });

    it('reports decode_error, keeping what was read, on a wrong gzip checksum', async () => {
      const body = zlib.gzipSync(bytesOf(anthropicSse));
      body[body.length - 6] = (body[body.length - 6] ?? 0) ^ 0xff;
      const options = { contentType: 'text/event-stream', contentEncoding: 'gzip' };

      const reading = await readChunks(piecesOf(body, 16), options);

      assert.equal(reading.missing, 'decode_error');
      assert.equal(reading.complete, false);
      assert.equal(reading.usage?.input, 6225);
    });

    it('reports decode_error and no usage for a JSON body whose checksum is wrong', async () => {
      const body = zlib.gzipSync(bytesOf(chatJson));
      body[body.length - 6] = (body[body.length - 6] ?? 0) ^ 0xff;

      const reading = await readChunks(piecesOf(body, 64), { ...CHAT, contentEncoding: 'gzip' });

      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: false,
        missing: 'decode_error',
        rejected: [],
        bytes: body.length,
      });
    });

    it('reads a gzip stream cut short as far as it got, as incomplete', async () => {
      const cut = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
      const body = zlib.gzipSync(bytesOf(anthropicSseHead), cut);

      const reading = await readChunks(piecesOf(body, 7), {
        contentType: 'text/event-stream',
        contentEncoding: 'gzip',
      });

      assert.equal(reading.missing, undefined);
      assert.equal(reading.complete, false);
      assert.equal(reading.usage?.input, 6225);
    });

    it('reports decode_error for a deflate body with an invalid block', async () => {
      const body = Buffer.from([0xff, 0xff, 0xff]);

      const reading = await readChunks([body], { ...CHAT, contentEncoding: 'deflate' });

      assert.equal(reading.missing, 'decode_error');
    });

    for (const encoding of ['zstd', 'compress', 'gzip, br']) {
      it(`reports unsupported_encoding, synchronously, for ${encoding}`, () => {
        const body = zlib.gzipSync(bytesOf(chatJson));
        const reader = new ResponseUsageReader({ ...CHAT, contentEncoding: encoding });

        assert.equal(reader.feed(body), undefined);
        const reading = reader.finish();

        assert.deepEqual(reading, {
          format: 'openai_chat',
          complete: false,
          missing: 'unsupported_encoding',
          rejected: [],
          bytes: body.length,
        });
      });
    }

    it('stops with decoded_too_large at maxDecodedBytes (a decompression bomb)', async () => {
      const bomb = zlib.gzipSync(
        Buffer.concat([bytesOf('{"pad":"'), Buffer.alloc(64 * 1024 * 1024, 0x30)]),
      );
      const options = { ...CHAT, contentEncoding: 'gzip', maxDecodedBytes: 1024 * 1024 };

      const reading = await readChunks(piecesOf(bomb, 16 * 1024), options);

      assert.ok(bomb.length < 100 * 1024);
      assert.deepEqual(reading, {
        format: 'openai_chat',
        complete: false,
        missing: 'decoded_too_large',
        rejected: [],
        bytes: bomb.length,
      });
    });

    it('stops decoding when the parser stops, reporting the parser failure', async () => {
      const body = zlib.gzipSync(bytesOf(`data: ${'x'.repeat(200_000)}\n\n`));
      const options = {
        contentType: 'text/event-stream',
        contentEncoding: 'gzip',
        maxEventBytes: 1000,
      };

      const reading = await readChunks(piecesOf(body, 100), options);

      assert.deepEqual(reading, {
        complete: false,
        missing: 'event_too_large',
        rejected: [],
        bytes: body.length,
      });
    });
  });
});
