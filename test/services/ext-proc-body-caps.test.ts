import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import { replyKind, type EnvoyStream } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { gaugeProcess } from '../helpers/leak-gauge.js';
import { metricValue } from '../helpers/metrics.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

const MIB = 1024 * 1024;
const CAP = 64 * 1024;
/** Memory (heap and buffers, after collection) a body far over the cap may leave held. */
const HELD_BOUND_BYTES = 8 * MIB;
/** The default estimate: input 1024 + output 1024 tokens. */
const DEFAULT_ESTIMATE = 2048;
const LIMIT = 100_000_000;
/** `ProcessingMode.BodySendMode.STREAMED`, as the test client decodes enums. */
const STREAMED = 1;

/** Memory held now, after full collections: the JS heap and the buffers outside it. */
async function held(): Promise<number> {
  const gauge = await gaugeProcess();
  return gauge.heapUsedBytes + gauge.arrayBufferBytes;
}

/** Sends `total` bytes of `fill` in 1 MiB messages (the last one `last`), each answered. */
async function sendChunks(
  send: (chunk: Buffer, last: boolean) => Promise<ProcessingResponse | undefined>,
  prefix: string,
  total: number,
  last: boolean,
): Promise<void> {
  for (let sent = 0; sent < total; sent += MIB) {
    const chunk = Buffer.alloc(MIB, 'a');
    if (sent === 0) chunk.write(prefix);
    const reply = await send(chunk, last && sent + MIB >= total);
    assert.ok(reply, `a reply to the chunk at ${sent}`);
  }
}

function remainingHeader(reply: ProcessingResponse | undefined): string | undefined {
  const set = reply?.request_body?.response?.header_mutation?.set_headers ?? [];
  const found = set.find((option) => option.header.key === 'x-tollgate-budget-remaining');
  return found && Buffer.from(found.header.raw_value).toString();
}

describe('bodies over the usage caps, over ext_proc', () => {
  let temp: TempDir;
  let gate: TestTollgate;

  before(async () => {
    temp = TempDir.create('tollgate-caps-');
    gate = await startTestTollgate(
      `usage:
  max_request_body_bytes: ${CAP}
  max_buffered_json_bytes: ${CAP}
  max_event_bytes: ${CAP}
  max_decoded_bytes: ${MIB}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  tenants:
    acme: {period: daily, limit: ${LIMIT}}
`,
      { logLevel: 'info' },
    );
  });
  const figures: string[] = [];
  after(async () => {
    await gate.stop();
    temp.remove();
    process.stderr.write(`body caps: memory held while streaming ${figures.join(', ')}\n`);
  });
  const note = (what: string, bytes: number) =>
    figures.push(`${what} +${(bytes / MIB).toFixed(1)} MiB`);

  const budget = async () =>
    JSON.parse((await gate.admin('/budgets/acme')).text) as { used: number; reserved: number };
  const settled = async (source: string) =>
    (await metricValue(gate, 'tollgate_usage_settlements_total', { source })) ?? 0;

  /** Request headers and a small request body: the exchange is admitted. */
  async function admitted(): Promise<EnvoyStream> {
    const stream = gate.stream();
    await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));
    const chat = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';
    assert.equal(replyKind(await stream.send(requestBody(chat, true))), 'request_body');
    return stream;
  }

  it('charges the default estimate for a 32 MiB request body, holding none of it', async () => {
    const used = (await budget()).used;
    const estimated = await settled('estimated');
    const stream = gate.stream();
    await stream.send(requestHeaders({ headers: { 'x-tenant-id': 'acme' } }));
    const before = await held();

    const chat = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"';
    await sendChunks((chunk) => stream.send(requestBody(chunk, false)), chat, 32 * MIB, false);
    const during = await held();
    const last = await stream.send(requestBody('"}]}', true));
    const reservedAtBody = (await budget()).reserved;
    await stream.send(responseHeaders(200));
    await stream.send(responseBody('{"id":"no-usage"}', true));
    await stream.halfClose();

    note('32 MiB request', during - before);
    assert.ok(during - before < HELD_BOUND_BYTES, `held ${(during - before) / MIB} MiB more`);
    assert.equal(remainingHeader(last), String(LIMIT - used - DEFAULT_ESTIMATE));
    assert.equal(reservedAtBody, DEFAULT_ESTIMATE);
    const after = await budget();
    assert.deepEqual([after.used, after.reserved], [used + DEFAULT_ESTIMATE, 0]);
    assert.equal(await settled('estimated'), estimated + 1);
  });

  it('reads the usage at the end of a 32 MiB JSON response, holding a bounded part', async () => {
    const used = (await budget()).used;
    const stream = await admitted();
    await stream.send(responseHeaders(200, { 'content-type': 'application/json' }));
    const before = await held();

    const start = '{"id":"big","model":"gpt-4o-mini","choices":[{"message":{"content":"';
    await sendChunks((chunk) => stream.send(responseBody(chunk, false)), start, 32 * MIB, false);
    const during = await held();
    const end = '"}}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}';
    const last = await stream.send(responseBody(end, true));
    await stream.halfClose();

    note('32 MiB JSON response', during - before);
    assert.equal(replyKind(last), 'response_body');
    assert.ok(during - before < HELD_BOUND_BYTES, `held ${(during - before) / MIB} MiB more`);
    assert.equal((await budget()).used, used + 10);
  });

  it('stops reading an SSE event over max_event_bytes and charges the estimate', async () => {
    const estimated = await settled('estimated');
    const stream = await admitted();
    const headers = await stream.send(
      responseHeaders(200, { 'content-type': 'text/event-stream' }),
    );
    const before = await held();

    const event = 'data: {"choices":[{"delta":{"content":"';
    await sendChunks((chunk) => stream.send(responseBody(chunk, false)), event, 16 * MIB, false);
    const during = await held();
    await stream.send(responseBody('"}}]}\n\ndata: [DONE]\n\n', true));
    await stream.halfClose();

    note('16 MiB SSE event', during - before);
    assert.equal(headers?.mode_override?.response_body_mode, STREAMED);
    assert.ok(during - before < HELD_BOUND_BYTES, `held ${(during - before) / MIB} MiB more`);
    assert.equal(await settled('estimated'), estimated + 1);
  });

  it('stops inflating a gzip bomb at max_decoded_bytes and charges the estimate', async () => {
    const estimated = await settled('estimated');
    const bomb = gzipSync(Buffer.alloc(256 * MIB));
    const stream = await admitted();
    await stream.send(responseHeaders(200, { 'content-encoding': 'gzip' }));
    const before = await held();

    const started = performance.now();
    const last = await stream.send(responseBody(bomb, true));
    const ms = performance.now() - started;
    const after = await held();
    await stream.halfClose();

    note(`gzip bomb (${Math.round(ms)} ms)`, after - before);
    assert.equal(replyKind(last), 'response_body');
    assert.ok(ms < 1000, `answered in ${ms} ms`);
    assert.ok(after - before < HELD_BOUND_BYTES, `held ${(after - before) / MIB} MiB more`);
    assert.equal(await settled('estimated'), estimated + 1);
  });
});
