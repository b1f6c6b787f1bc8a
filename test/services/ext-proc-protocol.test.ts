import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, credentials, status, type StatusObject } from '@grpc/grpc-js';

import { heldPermits } from '../helpers/breaker-permits.js';
import { processCodec, replyKind } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
  trailers,
} from '../helpers/envoy-messages.js';
import { metricValue } from '../helpers/metrics.js';
import { ResettableStreams } from '../helpers/resettable-stream.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

const ACTIVE = 'tollgate_extproc_active_streams';
const CANCELLED = { end: 'cancelled' };
const HALF_CLOSED = { end: 'half_closed' };

/** The log lines of streams rejected for a message Envoy would not send. */
function rejections(tg: TestTollgate) {
  return tg.logs.find('a message Envoy would not send');
}

/**
 * Writes `bytes` as one gRPC message on a new Process stream, past the proto
 * encoder. Resolves with how the stream ended and its raw replies; a stream
 * that replies is cancelled after the first reply.
 */
async function sendRaw(port: number, bytes: Buffer) {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
    (raw: Buffer) => raw,
    (raw: Buffer) => raw,
  );
  const replies: Buffer[] = [];
  const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.on('data', (reply: Buffer) => {
    replies.push(reply);
    call.cancel();
  });

  call.write(bytes);
  const end = await ended;
  client.close();
  return { end, replies };
}

function errorLines(tg: TestTollgate): number {
  return tg.logs.lines.filter((line) => line.level === 'error').length;
}

describe('ext_proc stream protocol', () => {
  let tg: TestTollgate;

  before(async () => {
    tg = await startTestTollgate();
  });
  after(() => tg.stop());

  it('answers every phase with the matching reply and ends OK on half-close', async () => {
    const stream = tg.stream();
    const sequence = [
      requestHeaders(),
      requestBody('{"model":', false),
      requestBody('"gpt-4o"}', true),
      responseHeaders(200),
      responseBody('{"id":"x"', false),
      responseBody('}', false),
      responseBody('', true),
    ];

    const before = (await metricValue(tg, 'tollgate_extproc_streams_total', HALF_CLOSED)) ?? 0;
    const kinds = [];
    for (const message of sequence) kinds.push(replyKind(await stream.send(message)));
    const end = await stream.halfClose();
    await waitFor(async () => (await metricValue(tg, ACTIVE)) === 0);

    assert.deepEqual(kinds, [
      'request_headers',
      'request_body',
      'request_body',
      'response_headers',
      'response_body',
      'response_body',
      'response_body',
    ]);
    assert.equal(end.code, status.OK);
    assert.equal(await metricValue(tg, 'tollgate_extproc_streams_total', HALF_CLOSED), before + 1);
  });

  it('answers trailers with trailers replies', async () => {
    const stream = tg.stream();

    await stream.send(requestHeaders());
    await stream.send(requestBody('{}', false));
    const requestTrailers = await stream.send(trailers('request', { 'x-checksum': 'a' }));
    await stream.send(responseHeaders(200));
    const responseTrailers = await stream.send(trailers('response', { 'grpc-status': '0' }));

    assert.equal(replyKind(requestTrailers), 'request_trailers');
    assert.equal(replyKind(responseTrailers), 'response_trailers');
    assert.equal((await stream.halfClose()).code, status.OK);
  });

  it('accepts headers sent in value rather than raw_value (Envoy before 1.27)', async () => {
    const stream = tg.stream();

    const reply = await stream.send(requestHeaders({ encoding: 'value' }));
    await stream.send(responseHeaders(200, {}, true));

    assert.equal(replyKind(reply), 'request_headers');
    assert.equal((await stream.halfClose()).code, status.OK);
  });

  it('treats a cancelled stream as a normal end', async () => {
    const stream = tg.stream();
    await stream.send(requestHeaders());

    const end = await stream.cancel();

    assert.equal(end.code, status.CANCELLED);
    await waitFor(async () => (await metricValue(tg, ACTIVE)) === 0);
    assert.equal(tg.logs.lines.filter((line) => line.level === 'error').length, 0);
  });

  const chunkedRequest = [requestHeaders(), requestBody('{"mo', false)];
  const wholeRequest = [requestHeaders(), requestBody('{}', true)];
  const resetPoints = [
    { name: 'before any message', sent: [] },
    { name: 'after request headers', sent: [requestHeaders()] },
    { name: 'mid request body', sent: chunkedRequest },
    { name: 'after the whole request, waiting for response headers', sent: wholeRequest },
    {
      name: 'after request trailers',
      sent: [...chunkedRequest, trailers('request', { 'x-checksum': 'a' })],
    },
    { name: 'after response headers', sent: [...wholeRequest, responseHeaders(200)] },
    {
      name: 'mid response body',
      sent: [...wholeRequest, responseHeaders(200), responseBody('data: {"x"', false)],
    },
    {
      name: 'after response trailers',
      sent: [...wholeRequest, responseHeaders(200), trailers('response', { 'grpc-status': '0' })],
    },
  ];

  for (const { name, sent } of resetPoints) {
    it(`counts a stream reset ${name} as cancelled and leaves nothing open`, async () => {
      const before = (await metricValue(tg, 'tollgate_extproc_streams_total', CANCELLED)) ?? 0;
      const errors = errorLines(tg);
      const streams = new ResettableStreams(tg.tollgate.grpcPort);
      const stream = streams.stream();

      for (const message of sent) assert.ok(await stream.send(message), 'every message answered');
      await waitFor(async () => ((await metricValue(tg, ACTIVE)) ?? 0) >= 1);
      await stream.reset();
      streams.close();

      await waitFor(async () => (await metricValue(tg, ACTIVE)) === 0);
      assert.equal(await metricValue(tg, 'tollgate_extproc_streams_total', CANCELLED), before + 1);
      assert.equal(await heldPermits(tg), 0);
      assert.equal(errorLines(tg), errors);
    });
  }

  const malformed = [
    {
      name: 'a request body before the request headers',
      messages: [requestBody('{}', true)],
      details: /request_body arrived before request_headers/,
    },
    {
      name: 'response headers before any request headers',
      messages: [responseHeaders(200)],
      details: /request_header_mode: SEND/,
    },
    {
      name: 'a message with no oneof member set',
      messages: [{}],
      details: /no request oneof/,
    },
    {
      name: 'request headers twice',
      messages: [requestHeaders(), requestHeaders()],
      details: /arrived twice/,
    },
    {
      name: 'a body chunk after end_of_stream',
      messages: [requestHeaders(), requestBody('{}', true), requestBody('{}', true)],
      details: /after the request ended/,
    },
    {
      name: 'a request body after headers that ended the request',
      messages: [requestHeaders({ endOfStream: true }), requestBody('{}', false)],
      details: /after the request ended/,
    },
    {
      name: 'response headers without :status',
      messages: [
        requestHeaders({ endOfStream: true }),
        { response_headers: { headers: { headers: [] } } },
      ],
      details: /no valid :status/,
    },
    {
      name: 'a :status that is not three digits',
      messages: [
        requestHeaders({ endOfStream: true }),
        responseHeaders(200, { ':status': ' 500' }),
      ],
      details: /no valid :status/,
    },
    {
      name: 'a response body before the response headers',
      messages: [requestHeaders({ endOfStream: true }), responseBody('{}', true)],
      details: /response_body arrived before response_headers/,
    },
  ];

  for (const { name, messages, details } of malformed) {
    it(`ends the stream with INVALID_ARGUMENT on ${name}`, async () => {
      const logged = rejections(tg).length;
      const stream = tg.stream();

      for (const message of messages) stream.post(message);
      const end = await stream.status;

      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.match(end.details, details);
      const fresh = rejections(tg).slice(logged);
      assert.equal(fresh.length, 1);
      assert.match(String(fresh[0]?.reason), details);
    });
  }

  const rawBytes = [
    {
      name: 'bytes that are not protobuf',
      bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
      details: /not a ProcessingRequest/,
    },
    {
      name: 'a oneof member sent with the wrong wire type',
      // Field 2 (request_headers) as a varint: read as a length, it runs past the end.
      bytes: Buffer.from([0x10, 0x01]),
      details: /not a ProcessingRequest/,
    },
    {
      name: 'only a field number the proto lacks, as a newer oneof member would be',
      // Field 11, length-delimited and empty: skipped as unknown, so no oneof is set.
      bytes: Buffer.from([0x5a, 0x00]),
      details: /no request oneof set/,
    },
    {
      name: 'only an unknown high field number',
      // Field 99 (tag 794 as a varint), length-delimited, one byte.
      bytes: Buffer.from([0x9a, 0x06, 0x01, 0x00]),
      details: /no request oneof set/,
    },
  ];

  for (const { name, bytes, details } of rawBytes) {
    it(`ends the stream with INVALID_ARGUMENT on raw bytes: ${name}`, async () => {
      const logged = rejections(tg).length;

      const { end, replies } = await sendRaw(tg.tollgate.grpcPort, bytes);

      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.match(end.details, details);
      assert.equal(replies.length, 0);
      const fresh = rejections(tg).slice(logged);
      assert.equal(fresh.length, 1);
      assert.match(String(fresh[0]?.reason), details);
    });
  }

  it('ignores unknown fields beside a known oneof member, as proto3 readers must', async () => {
    const known = processCodec().encode(requestHeaders());
    const unknown = Buffer.from([0x5a, 0x00, 0x9a, 0x06, 0x01, 0x00]);

    const { replies } = await sendRaw(tg.tollgate.grpcPort, Buffer.concat([known, unknown]));

    assert.equal(replies.length, 1);
    assert.equal(replyKind(processCodec().decode(replies[0]!)), 'request_headers');
  });

  it('keeps serving after malformed streams', async () => {
    const stream = tg.stream();

    const reply = await stream.send(requestHeaders());

    assert.equal(replyKind(reply), 'request_headers');
    await stream.cancel();
  });

  it('sends no replies in observability mode', async () => {
    const stream = tg.stream();

    stream.post({ ...requestHeaders(), observability_mode: true });
    stream.post({ ...responseHeaders(200), observability_mode: true });
    const end = await stream.halfClose();

    assert.equal(end.code, status.OK);
    assert.equal(stream.replies.length, 0);
  });

  it('serves 100 concurrent streams, each answered in order', async () => {
    const exchanges = Array.from({ length: 100 }, async (_, index) => {
      const stream = tg.stream();
      const kinds = [
        replyKind(await stream.send(requestHeaders({ headers: { 'x-index': String(index) } }))),
        replyKind(await stream.send(requestBody(`{"n":${index}}`, true))),
        replyKind(await stream.send(responseHeaders(200))),
        replyKind(await stream.send(responseBody('{}', true))),
      ];
      return { kinds, end: await stream.halfClose() };
    });

    const results = await Promise.all(exchanges);

    for (const { kinds, end } of results) {
      assert.deepEqual(kinds, [
        'request_headers',
        'request_body',
        'response_headers',
        'response_body',
      ]);
      assert.equal(end.code, status.OK);
    }
  });
});

describe('ext_proc stream reset while a reply is pending', () => {
  let temp: TempDir;

  before(() => {
    temp = TempDir.create('tollgate-pending-');
  });
  after(() => temp.remove());

  it('counts it as cancelled, gives the permit back and holds no reservation', async () => {
    const tg = await startTestTollgate(`
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  decide_at: body
  tenants:
    pending: {period: daily, limit: 100000}
`);
    const streams = new ResettableStreams(tg.tollgate.grpcPort);
    try {
      const stream = streams.stream();
      await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'pending' } }));

      // The body's reply waits on the budget decision; the reset does not wait for it.
      stream.post(requestBody('{"model":"gpt-4o-mini","messages":[]}', true));
      await stream.reset();

      await waitFor(async () => (await metricValue(tg, ACTIVE)) === 0);
      const budget = JSON.parse((await tg.admin('/budgets/pending')).text) as { reserved: number };
      assert.equal(await metricValue(tg, 'tollgate_extproc_streams_total', CANCELLED), 1);
      assert.equal(await heldPermits(tg), 0);
      assert.equal(budget.reserved, 0);
      assert.equal(errorLines(tg), 0);
    } finally {
      streams.close();
      await tg.stop();
    }
  });
});

describe('ext_proc message size limit', () => {
  it('ends a stream with RESOURCE_EXHAUSTED when a message exceeds max_message_bytes', async () => {
    const tg = await startTestTollgate(
      'server:\n  grpc_address: 127.0.0.1:0\n  admin_address: 127.0.0.1:0\n' +
        '  max_message_bytes: 65536\n',
    );
    const stream = tg.stream();
    await stream.send(requestHeaders());

    const reply = await stream.send(requestBody(Buffer.alloc(100_000, 0x61), true));
    const end = await stream.status;
    const next = tg.stream();
    const stillServing = await next.send(requestHeaders());
    await next.cancel();
    await tg.stop();

    assert.equal(reply, undefined);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
    assert.equal(replyKind(stillServing), 'request_headers');
  });
});
