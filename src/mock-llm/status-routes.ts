import type http from 'node:http';

import { allowMethod, readJson, sendJson } from './http-json.js';
import { controlSchema, settingsJson } from './mock-llm-settings.js';
import type { MockContext } from './mock-llm-server.js';

/**
 * Answers the read-only status endpoints that health checkers probe:
 * `GET /health`, `GET /v1/models` and `GET /v1/models/{model}` (`status`
 * ready or loading, and `queue_depth`). False when `path` is none of them.
 */
export function statusRoute(
  context: MockContext,
  path: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): boolean {
  const { behaviour } = context;

  if (path === '/health') {
    if (allowMethod(req, res, 'GET')) {
      sendJson(res, 200, { status: 'ok', queue_depth: behaviour.queueDepth() });
    }
    return true;
  }

  if (path === '/v1/models') {
    if (allowMethod(req, res, 'GET')) {
      const data = [...behaviour.settings.models.keys()].map((model) => modelJson(context, model));
      sendJson(res, 200, { object: 'list', data });
    }
    return true;
  }

  if (!path.startsWith('/v1/models/')) return false;
  if (!allowMethod(req, res, 'GET')) return true;

  const model = decodeURIComponent(path.slice('/v1/models/'.length));
  if (behaviour.settings.models.has(model)) sendJson(res, 200, modelJson(context, model));
  else
    sendJson(res, 404, {
      error: { message: `the model ${model} does not exist`, type: 'not_found' },
    });
  return true;
}

/** `GET /control`: settings and counters; `POST /control`: change settings. */
export async function controlRoute(
  context: MockContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const { behaviour } = context;
  if (req.method === 'GET') {
    return sendJson(res, 200, {
      settings: settingsJson(behaviour.settings),
      stats: behaviour.stats(),
    });
  }
  if (!allowMethod(req, res, 'POST')) return;

  const body = await readJson(req);
  if ('error' in body) return sendJson(res, body.status, { error: body.error });

  const parsed = controlSchema.safeParse(body.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    return sendJson(res, 400, { error: 'the control body was not applied', problems });
  }

  const settings = behaviour.control(parsed.data);
  context.logger.info({ control: parsed.data }, 'mock LLM behaviour changed');
  sendJson(res, 200, { settings: settingsJson(settings) });
}

/** `POST /control/reset`: start settings, cold again, counters zeroed. */
export function resetRoute(
  context: MockContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  if (!allowMethod(req, res, 'POST')) return;

  context.behaviour.reset();
  context.logger.info('mock LLM reset');
  sendJson(res, 200, { settings: settingsJson(context.behaviour.settings) });
}

function modelJson(context: MockContext, model: string) {
  const status = context.behaviour.settings.models.get(model);
  return {
    id: model,
    object: 'model',
    created: 0,
    owned_by: 'mock-llm',
    status,
    ready: status === 'ready',
    queue_depth: context.behaviour.queueDepth(),
  };
}
