import type {
  ProcessingRequest,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';
import { replyKind } from './envoy-client.js';
import { requestBody, requestHeaders, responseBody, responseHeaders } from './envoy-messages.js';
import { ResettableStreams, type ResettableStream } from './resettable-stream.js';

/** Where a storm stream is reset; `complete` streams run to the end and half-close. */
export const CUT_POINTS = [
  'after_request_headers',
  'mid_request_body',
  'after_response_headers',
  'mid_response_body',
  'complete',
] as const;

export type CutPoint = (typeof CUT_POINTS)[number];

/** What a storm is made of. */
export interface StormPlan {
  readonly streams: number;
  /** Streams open at once. */
  readonly concurrency: number;
  /** Seeds the choices, so a failing run can be replayed. */
  readonly seed: number;
  /** Upstreams the streams name (`xds.cluster_name`); a `flaky` one fails half the time. */
  readonly upstreams: readonly string[];
  readonly tenants: readonly string[];
}

/** What the client side of a storm saw. */
export interface StormTally {
  readonly cut: Record<CutPoint, number>;
  /** Streams reset while a reply was still on its way. */
  resetWithReplyPending: number;
  /**
   * Streams reset before any reply: tollgate may never see them, since
   * grpc-js drops a stream reset before its handler runs.
   */
  resetBeforeAnyReply: number;
  /** Streams tollgate ended with an immediate response (open breaker, budget). */
  answered: number;
  /** Streams whose last reply was missing or of the wrong kind. */
  unexpected: number;
  /** Streams refused by a connection going away, and played again on the next one. */
  refusedRetries: number;
  /** Error codes of the GOAWAYs tollgate sent (0: NO_ERROR, a graceful move). */
  readonly goaways: readonly number[];
  readonly elapsedMs: number;
}

const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'storm' }],
  max_tokens: 8,
});
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-storm',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});

/** How long a storm stream waits for a reply before it counts as unexpected. */
const REPLY_TIMEOUT_MS = 5000;

/** A small seeded generator (mulberry32): the same seed plays the same storm. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One stream's script: the messages sent before the reset, in order. */
interface Script {
  readonly cut: CutPoint;
  readonly messages: ProcessingRequest[];
  /** Post the last message and reset without waiting for its reply. */
  readonly pending: boolean;
}

function scriptFor(random: () => number, plan: StormPlan): Script {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cut = pick(CUT_POINTS);
  const upstream = pick(plan.upstreams);
  const headers = requestHeaders({
    attributes: { 'xds.cluster_name': upstream },
    headers: { 'x-tenant-id': pick(plan.tenants) },
  });
  const status = upstream === 'flaky' && random() < 0.5 ? 503 : 200;
  const whole = [headers, requestBody(CHAT, true), responseHeaders(status)];

  const messages: Record<CutPoint, ProcessingRequest[]> = {
    after_request_headers: [headers],
    mid_request_body: [headers, requestBody(CHAT.slice(0, 20), false)],
    after_response_headers: whole,
    mid_response_body: [...whole, responseBody(COMPLETION.slice(0, 30), false)],
    complete: [...whole, responseBody(COMPLETION, true)],
  };
  return { cut, messages: messages[cut], pending: cut !== 'complete' && random() < 0.3 };
}

/**
 * Streams driven like Envoy's, each reset (RST_STREAM, no half-close) at a
 * random point of its exchange, some while tollgate is still answering;
 * a fifth run to the end. `concurrency` streams are open at any time.
 */
export async function runStorm(port: number, plan: StormPlan): Promise<StormTally> {
  const random = seededRandom(plan.seed);
  const cut = Object.fromEntries(CUT_POINTS.map((point) => [point, 0])) as Record<CutPoint, number>;
  const tally = {
    cut,
    resetWithReplyPending: 0,
    resetBeforeAnyReply: 0,
    answered: 0,
    unexpected: 0,
    refusedRetries: 0,
  };
  const started = performance.now();

  // One client connection, as one Envoy worker has: tollgate moves it to a
  // new connection every few hundred streams (see connection-recycler.ts).
  const connection = new ResettableStreams(port);
  let next = 0;
  const worker = async () => {
    while (next < plan.streams) {
      next += 1;
      const script = scriptFor(random, plan);
      tally.cut[script.cut] += 1;
      while ((await play(connection.stream(), script, tally)) === 'refused') {
        tally.refusedRetries += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  connection.close();

  return { ...tally, goaways: connection.goaways, elapsedMs: performance.now() - started };
}

async function play(
  stream: ResettableStream,
  script: Script,
  tally: Omit<StormTally, 'elapsedMs' | 'goaways'>,
): Promise<'played' | 'refused'> {
  const { messages, pending } = script;
  const waited = pending ? messages.slice(0, -1) : messages;

  for (const message of waited) {
    const reply = await withinTimeout(stream.send(message));
    if (isAnswer(reply)) {
      // tollgate ended its side; Envoy ends its own, as after any response.
      tally.answered += 1;
      await stream.end();
      return 'played';
    }
    if (!reply && stream.refused && message === messages[0]) return 'refused';
    if (!reply) {
      tally.unexpected += 1;
      await stream.reset();
      return 'played';
    }
  }

  if (pending) {
    stream.post(messages.at(-1)!);
    tally.resetWithReplyPending += 1;
    if (waited.length === 0) tally.resetBeforeAnyReply += 1;
  }
  if (script.cut === 'complete') await stream.end();
  else await stream.reset();
  return 'played';
}

/** A reply, or undefined when none came within {@link REPLY_TIMEOUT_MS}. */
async function withinTimeout(
  reply: Promise<ProcessingResponse | undefined>,
): Promise<ProcessingResponse | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), REPLY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([reply, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isAnswer(reply: ProcessingResponse | undefined): boolean {
  return replyKind(reply) === 'immediate_response';
}
