import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';

/**
 * The shape of the delta events: without a `usage` field (a stream that did
 * not ask for usage), or with `"usage":null` in every chunk, as OpenAI sends
 * them when `stream_options.include_usage` is set (which tollgate injects).
 */
export type DeltaShape = 'no_usage_field' | 'usage_null';

/** One measured SSE extraction run. */
export interface SseExtractionResult {
  /** The delta events' shape. */
  shape: DeltaShape;
  /** Bytes fed to the reader. */
  streamBytes: number;
  /** Throughput in decimal megabytes per second. */
  megabytesPerSecond: number;
  /** Resident memory before and after, in MiB, after a forced GC when available. */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Whether the reader found exactly the usage of the closing event. */
  usageMatched: boolean;
}

const CHUNK_BYTES = 16 * 1024;
const BLOCK_BYTES = 1024 * 1024;
const PROMPT_TOKENS = 4242;
const COMPLETION_TOKENS = 987_654;

/** One streamed chat-completion delta event, the shape OpenAI sends per token. */
function deltaEvent(index: number, shape: DeltaShape): string {
  const chunk = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: `token ${index} ` }, finish_reason: null }],
    ...(shape === 'usage_null' ? { usage: null } : {}),
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The final usage event and the `[DONE]` marker. */
function closingEvents(): string {
  const usage = {
    prompt_tokens: PROMPT_TOKENS,
    completion_tokens: COMPLETION_TOKENS,
    total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS,
  };
  const chunk = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', choices: [], usage };
  return `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`;
}

/** About 1 MiB of delta events, whose length is not a multiple of the chunk size. */
function deltaBlock(shape: DeltaShape): Buffer {
  const events: string[] = [];
  let length = 0;
  for (let index = 0; length < BLOCK_BYTES; index++) {
    const event = deltaEvent(index, shape);
    events.push(event);
    length += event.length;
  }
  return Buffer.from(events.join(''), 'utf8');
}

/**
 * Streams `streamBytes` of SSE through one reader in 16 KiB chunks that cut
 * events anywhere (the same block is replayed, so only the reader's own memory
 * shows in the resident size).
 */
export function measureSseExtraction(
  streamBytes: number,
  shape: DeltaShape = 'usage_null',
): SseExtractionResult {
  const block = deltaBlock(shape);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const reader = new ResponseUsageReader({
    format: 'openai_chat',
    contentType: 'text/event-stream',
  });

  let sent = 0;
  const started = process.hrtime.bigint();
  while (sent < streamBytes) {
    for (let at = 0; at < block.length && sent < streamBytes; at += CHUNK_BYTES) {
      const chunk = block.subarray(at, Math.min(at + CHUNK_BYTES, block.length));
      reader.feed(chunk);
      sent += chunk.length;
    }
  }
  reader.feed(Buffer.from(`\n\n${closingEvents()}`, 'utf8'));
  const reading = reader.finish();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  if (reading instanceof Promise) throw new Error('an identity SSE body must read synchronously');
  global.gc?.();
  return {
    shape,
    streamBytes: sent,
    megabytesPerSecond: sent / 1e6 / seconds,
    rssBeforeMiB: rssBefore / 2 ** 20,
    rssAfterMiB: process.memoryUsage().rss / 2 ** 20,
    usageMatched:
      reading.usage?.input === PROMPT_TOKENS && reading.usage.output === COMPLETION_TOKENS,
  };
}
