import assert from 'node:assert/strict';

import type {
  CommonResponse,
  HeaderMutation,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';
import { processCodec, replyKind } from './envoy-client.js';
import { expectFor, type FuzzStep, type FuzzStream } from './ext-proc-arbitraries.js';
import type { ResettableStream, ResettableStreams } from './resettable-stream.js';

/** How long the driver waits for a reply or a status before calling the stream stuck. */
const WAIT_MS = 5000;

const codec = processCodec();

/**
 * Plays one fuzzed stream against tollgate and asserts what Envoy must get:
 * a reply of the matching kind (or an immediate response that ends the
 * stream) to every message the model accepts; for the first one it refuses,
 * no reply and the precise status (INVALID_ARGUMENT with a reason, or
 * RESOURCE_EXHAUSTED); OK for a half-close. Never UNKNOWN or INTERNAL.
 */
export async function playFuzzStream(
  streams: ResettableStreams,
  fuzz: FuzzStream,
  maxMessageBytes: number,
): Promise<FuzzOutcome> {
  for (;;) {
    const outcome = await playOnce(streams.stream(), fuzz, maxMessageBytes);
    if (outcome !== 'refused_by_goaway') return outcome;
  }
}

async function playOnce(
  stream: ResettableStream,
  fuzz: FuzzStream,
  maxMessageBytes: number,
): Promise<FuzzOutcome | 'refused_by_goaway'> {
  const encoded = new Map(fuzz.steps.map((step) => [step, encode(step)]));
  const expected = expectFor(fuzz.steps, (step) => encoded.get(step)!.length, maxMessageBytes);

  for (const [index, step] of fuzz.steps.entries()) {
    const what = `message ${index} (${describe(step)})`;
    if (index === expected.refusedAt) {
      stream.postBytes(encoded.get(step)!);
      const status = await within(stream.status, `the status after ${what}`);
      if (!status && index === 0 && stream.refused) return 'refused_by_goaway';
      assert.equal(status?.code, expected.code, `${what}: ${JSON.stringify(status)}`);
      assert.ok(status!.details.length > 0, `${what}: a status without a reason`);
      await stream.reset();
      return expected.code === 8 ? 'too_large' : 'refused';
    }

    const reply = await within(stream.sendBytes(encoded.get(step)!), `the reply to ${what}`);
    if (!reply && index === 0 && stream.refused) return 'refused_by_goaway';
    assert.ok(reply, `no reply to ${what}; status ${JSON.stringify(await peek(stream.status))}`);
    assertWellFormed(reply, what);
    if (replyKind(reply) === 'immediate_response') {
      const status = await within(stream.status, `the status after an immediate response`);
      assert.equal(status?.code, 0, `${what}: ${JSON.stringify(status)}`);
      await stream.reset();
      return 'answered';
    }
    assert.equal(replyKind(reply), step.kind === 'message' ? step.phase : undefined, what);
  }

  if (fuzz.ending === 'reset') {
    await stream.reset();
    return 'reset';
  }
  const ended = stream.end();
  const status = await within(stream.status, 'the status after the half-close');
  assert.equal(status?.code, 0, `half-close: ${JSON.stringify(status)}`);
  await ended;
  return 'half_closed';
}

/** How a fuzzed stream ended. */
export type FuzzOutcome = 'refused' | 'too_large' | 'answered' | 'reset' | 'half_closed';

function encode(step: FuzzStep): Uint8Array {
  return step.kind === 'bytes' ? step.bytes : codec.encode(step.message);
}

function describe(step: FuzzStep): string {
  if (step.kind === 'bytes') return `${step.why} bytes`;
  const fields = step.message[step.phase] as { end_of_stream?: boolean };
  return `${step.phase}${fields?.end_of_stream ? ', end_of_stream' : ''}`;
}

/** What Envoy requires of a reply: one oneof, statuses in range, raw_value mutations only. */
function assertWellFormed(reply: ProcessingResponse, what: string): void {
  const kind = replyKind(reply);
  assert.ok(kind, `${what}: a reply with no response oneof set`);

  const immediate = reply.immediate_response;
  if (immediate) {
    const code = Number(immediate.status.code);
    assert.ok(code >= 200 && code <= 599, `${what}: immediate status ${code}`);
    assertRawOnly(immediate.headers, what);
    return;
  }
  const common = (reply as Record<string, { response?: CommonResponse } | undefined>)[kind];
  assertRawOnly(common?.response?.header_mutation, what);
}

function assertRawOnly(mutation: HeaderMutation | undefined, what: string): void {
  for (const option of mutation?.set_headers ?? []) {
    const header = option.header as { key: string; value?: string; raw_value?: Buffer };
    assert.ok(!header.value, `${what}: header ${header.key} set in value, not raw_value`);
    assert.ok(header.raw_value !== undefined, `${what}: header ${header.key} without raw_value`);
  }
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The value of a promise that has settled by the next turn, else undefined. */
async function peek<T>(promise: Promise<T>): Promise<T | undefined> {
  const next = new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)));
  return Promise.race([promise, next]);
}

/** The message size cap of the fuzzed tollgate; bigger messages must get RESOURCE_EXHAUSTED. */
export const FUZZ_MAX_MESSAGE_BYTES = 65_536;

/**
 * The config fuzzed streams run against: a breaker that opens at once, API
 * key and header tenants, and budgets (one tight) on an embedded store at
 * `storePath`, so every decision path is reachable.
 */
export function fuzzConfigYaml(storePath: string): string {
  return `server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
  drain_timeout_seconds: 1
  max_message_bytes: ${FUZZ_MAX_MESSAGE_BYTES}
circuit_breakers:
  upstreams:
    flaky: {failure_threshold: 1, timeout_seconds: 0.2}
tenants:
  sources: [{header: x-tenant-id}, {api_key_header: x-api-key}]
budgets:
  enabled: true
  store: {backend: embedded, path: ${storePath}}
  tenants:
    default: {period: daily, limit: 100000000}
    tight: {period: daily, limit: 2000}
`;
}
