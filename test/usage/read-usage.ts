import assert from 'node:assert/strict';

import {
  ResponseUsageReader,
  type UsageReaderOptions,
  type UsageReading,
} from '../../src/usage/response/response-usage-reader.js';

/** Reads `chunks` with a new reader, awaiting each feed as the ext_proc stream does. */
export async function readChunks(
  chunks: readonly Uint8Array[],
  options: UsageReaderOptions,
): Promise<UsageReading> {
  const reader = new ResponseUsageReader(options);
  for (const chunk of chunks) await reader.feed(chunk);
  return reader.finish();
}

/** Reads `chunks` with a new reader, asserting that neither feed nor finish went async. */
export function readChunksSync(
  chunks: readonly Uint8Array[],
  options: UsageReaderOptions,
): UsageReading {
  const reader = new ResponseUsageReader(options);
  for (const chunk of chunks) assert.equal(reader.feed(chunk), undefined);

  const reading = reader.finish();
  assert.ok(!(reading instanceof Promise), 'finish went async');
  return reading;
}

/** `text` as UTF-8 bytes. */
export function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** `bytes` cut at `at`: [0, at) and [at, n). */
export function splitAt(bytes: Uint8Array, at: number): Uint8Array[] {
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

/** `bytes` cut into pieces of `size` bytes (the last may be shorter). */
export function piecesOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
}
