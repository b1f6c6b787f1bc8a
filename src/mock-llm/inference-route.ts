import type http from 'node:http';

import { anthropicError, messageEvents, messageJson } from './anthropic-replies.js';
import { readJson, sendJson } from './http-json.js';
import type { Admission } from './mock-behaviour.js';
import { generateCompletion, type MockCompletion } from './mock-completion.js';
import type { MockContext } from './mock-llm-server.js';
import { readMockRequest, type MockApi, type MockRequest } from './mock-request.js';
import {
  chatCompletionEvents,
  chatCompletionJson,
  openAiError,
  textCompletionEvents,
  textCompletionJson,
} from './openai-replies.js';

/** The header that reports the queue depth on every inference answer. */
export const QUEUE_DEPTH_HEADER = 'x-queue-depth';

/** Set to `true` on an answer that waited for a cold start. */
export const COLD_START_HEADER = 'x-mock-cold-start';

/** Why the mock is waiting: a fixed latency, a cold start, or the gap between SSE events. */
export type DelayReason = 'latency' | 'cold_start' | 'chunk';

const JSON_BODIES: Record<MockApi, (completion: MockCompletion) => unknown> = {
  chat: chatCompletionJson,
  completions: textCompletionJson,
  messages: messageJson,
};

const STREAM_EVENTS: Record<MockApi, (completion: MockCompletion, usage: boolean) => string[]> = {
  chat: chatCompletionEvents,
  completions: textCompletionEvents,
  messages: (completion) => messageEvents(completion),
};

const ID_PREFIXES: Record<MockApi, string> = {
  chat: 'chatcmpl-mock-',
  completions: 'cmpl-mock-',
  messages: 'msg_mock_',
};

/**
 * Answers one chat completions, completions or messages request: 400 for a
 * bad body, 404 for a model not served, 503 while the model loads, else the
 * configured latency (plus a cold start) and then a completion or an
 * injected failure.
 */
export async function inference(
  context: MockContext,
  api: MockApi,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const body = await readJson(req);
  if ('error' in body) return sendError(res, api, body.status, body.error);

  const request = readMockRequest(api, body.value);
  if ('error' in request) return sendError(res, api, 400, request.error);

  const queueDepth = context.behaviour.queueDepth();
  const admission = context.behaviour.admit(request.model);
  if (admission.kind === 'unknown_model') {
    return sendError(res, api, 404, `the model ${request.model} does not exist`, 'model_not_found');
  }
  if (admission.kind === 'loading') {
    res.setHeader('retry-after', '5');
    return sendError(res, api, 503, `the model ${request.model} is loading`, 'model_loading');
  }

  try {
    await answer(context, request, admission, queueDepth, res);
  } finally {
    context.behaviour.finish();
  }
}

async function answer(
  context: MockContext,
  request: MockRequest,
  admission: Extract<Admission, { kind: 'serve' | 'fail' }>,
  queueDepth: number,
  res: http.ServerResponse,
): Promise<void> {
  await context.wait(admission.delayMs, admission.cold ? 'cold_start' : 'latency');
  if (res.destroyed) return;

  res.setHeader(QUEUE_DEPTH_HEADER, String(queueDepth));
  if (admission.cold) res.setHeader(COLD_START_HEADER, 'true');
  context.logger.debug(
    { api: request.api, model: request.model, outcome: admission.kind, cold: admission.cold },
    'mock LLM request',
  );

  if (admission.kind === 'fail') {
    const message = `injected failure (status ${admission.status})`;
    return sendError(res, request.api, admission.status, message, 'mock_failure');
  }

  const identity = {
    id: ID_PREFIXES[request.api] + String(context.nextId()).padStart(6, '0'),
    created: Math.floor(context.clock.wallMs() / 1000),
  };
  const completion = generateCompletion(request, context.behaviour.settings.outputTokens, identity);
  if (!request.stream) return sendJson(res, 200, JSON_BODIES[request.api](completion));

  await streamEvents(context, STREAM_EVENTS[request.api](completion, request.includeUsage), res);
}

/** Writes SSE events, `chunk_interval_ms` apart; stops if the client leaves. */
async function streamEvents(
  context: MockContext,
  events: readonly string[],
  res: http.ServerResponse,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();

  const interval = context.behaviour.settings.chunkIntervalMs;
  for (const [index, event] of events.entries()) {
    if (index > 0) await context.wait(interval, 'chunk');
    if (res.destroyed) return;
    res.write(event);
  }
  res.end();
}

/** An error in the API's own shape: OpenAI's `{error: {...}}` or Anthropic's `{type: 'error'}`. */
function sendError(
  res: http.ServerResponse,
  api: MockApi,
  status: number,
  message: string,
  code = 'invalid_request',
): void {
  if (api === 'messages') {
    return sendJson(res, status, anthropicError(anthropicType(status), message));
  }

  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, openAiError(message, type, code));
}

function anthropicType(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 503 || status === 529) return 'overloaded_error';
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}
