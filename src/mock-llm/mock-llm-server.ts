import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino, type Logger } from 'pino';

import { systemClock, type Clock } from '../time/clock.js';
import { allowMethod, sendJson } from './http-json.js';
import { inference, type DelayReason } from './inference-route.js';
import { MockBehaviour, type MockLlmStats } from './mock-behaviour.js';
import {
  applyControl,
  controlSchema,
  DEFAULT_MODELS,
  DEFAULT_SETTINGS,
  type MockLlmControl,
  type MockLlmSettings,
  type ModelStatus,
} from './mock-llm-settings.js';
import { controlRoute, resetRoute, statusRoute } from './status-routes.js';

export { COLD_START_HEADER, QUEUE_DEPTH_HEADER, type DelayReason } from './inference-route.js';

const INFERENCE_PATHS = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/messages': 'messages',
} as const;

/** Events of a running mock, for tests that drive it with a fake clock. */
export interface MockLlmEvents {
  /** A wait of `ms` on the mock's clock has begun. */
  delay: [{ ms: number; reason: DelayReason }];
}

/**
 * How to start the mock: listen address, initial behaviour (the settings in
 * camelCase, checked like a `POST /control` body), clock and seed.
 */
export interface MockLlmOptions extends Partial<Omit<MockLlmSettings, 'models'>> {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The models served, all `ready` at start. Default {@link DEFAULT_MODELS}. */
  models?: readonly string[];
  /** Time source for latency, cold starts and `created`; default the system clock. */
  clock?: Clock;
  /** Seed of the random source behind `failureRate`. Default 1. */
  seed?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** A running mock backend. */
export interface MockLlm {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly events: EventEmitter<MockLlmEvents>;
  /** The settings in force. */
  settings(): MockLlmSettings;
  /**
   * Changes the behaviour as `POST /control` does; `patch` uses the same
   * snake_case keys. Throws a RangeError naming every bad key.
   */
  control(patch: unknown): MockLlmSettings;
  /** Back to the start settings, cold, counters zeroed, as `POST /control/reset`. */
  reset(): void;
  stats(): MockLlmStats;
  close(): Promise<void>;
}

/** What every route handler needs. */
export interface MockContext {
  readonly behaviour: MockBehaviour;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Waits `ms` on the mock's clock, announcing it as a `delay` event. */
  readonly wait: (ms: number, reason: DelayReason) => Promise<void>;
  /** Numbers response ids: `chatcmpl-mock-000001`, ... */
  nextId(): number;
}

/**
 * Starts an OpenAI- and Anthropic-compatible LLM backend for tests, the bench,
 * the demo and docker-compose:
 *
 * - `POST /v1/chat/completions`, `/v1/completions`, `/v1/messages`: JSON, or
 *   SSE with `stream: true` (usage in a last chunk with
 *   `stream_options.include_usage`; Anthropic's in `message_start` and
 *   `message_delta`). Prompt tokens are the prompt's words; completion tokens
 *   the request's `max_tokens`, else `outputTokens`. Every answer carries
 *   `x-queue-depth`.
 * - `GET /v1/models`, `GET /v1/models/{model}` (`status`: ready or loading,
 *   `queue_depth`), `GET /health`.
 * - `GET /control`, `POST /control` (change settings), `POST /control/reset`.
 *
 * Throws a RangeError for options out of range.
 */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const clock = options.clock ?? systemClock;
  const models = options.models ?? DEFAULT_MODELS;
  const served = new Map<string, ModelStatus>(models.map((model) => [model, 'ready']));
  const initial = applyControl(
    { ...DEFAULT_SETTINGS, models: served },
    parseControl(controlOf(options)),
  );
  const behaviour = new MockBehaviour(initial, clock, options.seed ?? 1);
  const events = new EventEmitter<MockLlmEvents>();

  let sequence = 0;
  const context: MockContext = {
    behaviour,
    clock,
    logger: options.logger ?? pino({ level: 'silent' }),
    wait: (ms, reason) => waitOn(clock, events, ms, reason),
    nextId: () => ++sequence,
  };

  const server = http.createServer((req, res) => {
    route(context, req, res).catch((error: unknown) => {
      context.logger.error({ err: error }, 'mock LLM handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'mock LLM failed' } });
      else res.destroy();
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');

  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    events,
    settings: () => behaviour.settings,
    control: (patch) => behaviour.control(parseControl(patch)),
    reset: () => behaviour.reset(),
    stats: () => behaviour.stats(),
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

async function route(
  context: MockContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://mock').pathname;

  const api = INFERENCE_PATHS[path as keyof typeof INFERENCE_PATHS];
  if (api) return allowMethod(req, res, 'POST') ? inference(context, api, req, res) : undefined;
  if (path === '/control') return controlRoute(context, req, res);
  if (path === '/control/reset') return resetRoute(context, req, res);
  if (statusRoute(context, path, req, res)) return;

  sendJson(res, 404, { error: { message: `no route for ${path}`, type: 'not_found' } });
}

function waitOn(
  clock: Clock,
  events: EventEmitter<MockLlmEvents>,
  ms: number,
  reason: DelayReason,
): Promise<void> {
  if (ms <= 0) return Promise.resolve();

  return new Promise((resolve) => {
    clock.schedule(ms, resolve);
    events.emit('delay', { ms, reason });
  });
}

/** Parses a control patch; a RangeError names every bad key and value. */
export function parseControl(patch: unknown): MockLlmControl {
  const parsed = controlSchema.safeParse(patch);
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new RangeError(`mock LLM settings rejected: ${problems.join('; ')}`);
}

function controlOf(options: MockLlmOptions): Record<string, unknown> {
  const control = {
    latency_ms: options.latencyMs,
    chunk_interval_ms: options.chunkIntervalMs,
    failure_rate: options.failureRate,
    failure_status: options.failureStatus,
    fail_next: options.failNext,
    queue_depth: options.queueDepth,
    cold_start_ms: options.coldStartMs,
    idle_timeout_ms: options.idleTimeoutMs,
    output_tokens: options.outputTokens,
  };
  return Object.fromEntries(Object.entries(control).filter(([, value]) => value !== undefined));
}
