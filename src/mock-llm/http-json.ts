import type http from 'node:http';

/** Request bodies larger than this are refused with 413. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** A parsed JSON request body, or the status and reason to refuse it with. */
export type JsonBody = { value: unknown } | { error: string; status: number };

/**
 * Reads a whole request body as JSON. A body over {@link MAX_REQUEST_BYTES}
 * is read to its end without being kept, so the 413 reaches the client.
 */
export async function readJson(req: http.IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  }
  if (size > MAX_REQUEST_BYTES) {
    return { error: `the request body is over ${MAX_REQUEST_BYTES} bytes`, status: 413 };
  }

  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { error: 'the request body is not valid JSON', status: 400 };
  }
}

/** Sends `body` as a complete JSON response. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** True when the request uses `method`; otherwise answers 405 with `allow`. */
export function allowMethod(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  method: string,
): boolean {
  if (req.method === method) return true;

  res.setHeader('allow', method);
  sendJson(res, 405, { error: { message: `use ${method}`, type: 'invalid_request_error' } });
  return false;
}
