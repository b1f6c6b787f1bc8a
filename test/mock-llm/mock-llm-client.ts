import { ResponseUsageReader } from '../../src/usage/response/response-usage-reader.js';
import type { UsageReading } from '../../src/usage/response/response-usage-reader.js';
import { formatFromPath } from '../../src/usage/provider-format.js';

/** A mock answer: status, headers and the whole body. */
export interface MockAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The `data:` payloads of an SSE body, in order, with `event:` names. */
  events(): Array<{ event?: string; data: string }>;
}

/** POSTs a JSON body to the mock (or GETs when `body` is undefined) and reads the whole answer. */
export async function call(baseUrl: string, path: string, body?: unknown): Promise<MockAnswer> {
  const response = await fetch(baseUrl + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();

  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
    events: () => parseEvents(text),
  };
}

/** Reads an answer's usage with tollgate's own response usage reader. */
export async function tollgateReading(path: string, answer: MockAnswer): Promise<UsageReading> {
  const reader = new ResponseUsageReader({
    format: formatFromPath(path),
    contentType: answer.headers.get('content-type') ?? undefined,
  });
  await reader.feed(Buffer.from(answer.text));
  return reader.finish();
}

function parseEvents(text: string): Array<{ event?: string; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      return event === undefined ? { data } : { event, data };
    });
}
