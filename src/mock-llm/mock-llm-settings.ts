import { z } from 'zod';

/** Whether a model answers (`ready`) or is still being loaded (`loading`, 503). */
export type ModelStatus = 'ready' | 'loading';

/** How the mock backend behaves right now; changed at run time through `POST /control`. */
export interface MockLlmSettings {
  /** Wait before the response headers of every inference request. */
  readonly latencyMs: number;
  /** Wait between the events of a streamed (SSE) response. */
  readonly chunkIntervalMs: number;
  /** Fraction (0-1) of inference requests answered with `failureStatus`. */
  readonly failureRate: number;
  /** The HTTP status of an injected failure (5xx). */
  readonly failureStatus: number;
  /** The next N inference requests fail whatever the rate (deterministic failures). */
  readonly failNext: number;
  /** Queue depth reported besides the requests in flight (`x-queue-depth`, `queue_depth`). */
  readonly queueDepth: number;
  /** Extra wait of the first inference request after `idleTimeoutMs` without one; 0: never cold. */
  readonly coldStartMs: number;
  /** Idle time after which the backend is cold again. */
  readonly idleTimeoutMs: number;
  /** Completion tokens generated when the request sets no maximum. */
  readonly outputTokens: number;
  /** Every model served, with its status. Requests for other models get 404. */
  readonly models: ReadonlyMap<string, ModelStatus>;
}

/** The models a fresh mock serves: names the bundled pricing knows, and a neutral one. */
export const DEFAULT_MODELS = [
  'mock-model',
  'gpt-4o-mini',
  'gpt-4o',
  'claude-sonnet-4-5',
  'gemini-2.5-flash',
] as const;

/** Settings of a fresh mock: fast, healthy, never cold. */
export const DEFAULT_SETTINGS: MockLlmSettings = {
  latencyMs: 0,
  chunkIntervalMs: 0,
  failureRate: 0,
  failureStatus: 500,
  failNext: 0,
  queueDepth: 0,
  coldStartMs: 0,
  idleTimeoutMs: 60_000,
  outputTokens: 16,
  models: new Map(DEFAULT_MODELS.map((model) => [model, 'ready'])),
};

const milliseconds = z.number().int().min(0).max(600_000);
const modelStatus = z.enum(['ready', 'loading']);

/**
 * The body of `POST /control`: any subset of the settings, in snake_case.
 * `model_status` is one status for every model, or a map of model → status
 * (a new name adds the model).
 */
export const controlSchema = z.strictObject({
  latency_ms: milliseconds.optional(),
  chunk_interval_ms: milliseconds.optional(),
  failure_rate: z.number().min(0).max(1).optional(),
  failure_status: z.number().int().min(500).max(599).optional(),
  fail_next: z.number().int().min(0).optional(),
  queue_depth: z.number().int().min(0).optional(),
  cold_start_ms: milliseconds.optional(),
  idle_timeout_ms: milliseconds.optional(),
  output_tokens: z.number().int().min(1).max(16_384).optional(),
  model_status: z.union([modelStatus, z.record(z.string().min(1), modelStatus)]).optional(),
});

/** A validated `POST /control` body. */
export type MockLlmControl = z.output<typeof controlSchema>;

/** Applies a control patch; settings it does not name keep their value. */
export function applyControl(settings: MockLlmSettings, control: MockLlmControl): MockLlmSettings {
  const models = new Map(settings.models);
  const status = control.model_status;
  if (typeof status === 'string') for (const model of models.keys()) models.set(model, status);
  else if (status) for (const [model, value] of Object.entries(status)) models.set(model, value);

  return {
    latencyMs: control.latency_ms ?? settings.latencyMs,
    chunkIntervalMs: control.chunk_interval_ms ?? settings.chunkIntervalMs,
    failureRate: control.failure_rate ?? settings.failureRate,
    failureStatus: control.failure_status ?? settings.failureStatus,
    failNext: control.fail_next ?? settings.failNext,
    queueDepth: control.queue_depth ?? settings.queueDepth,
    coldStartMs: control.cold_start_ms ?? settings.coldStartMs,
    idleTimeoutMs: control.idle_timeout_ms ?? settings.idleTimeoutMs,
    outputTokens: control.output_tokens ?? settings.outputTokens,
    models,
  };
}

/** The settings as `GET /control` shows them (snake_case, as they are set). */
export function settingsJson(settings: MockLlmSettings): Record<string, unknown> {
  return {
    latency_ms: settings.latencyMs,
    chunk_interval_ms: settings.chunkIntervalMs,
    failure_rate: settings.failureRate,
    failure_status: settings.failureStatus,
    fail_next: settings.failNext,
    queue_depth: settings.queueDepth,
    cold_start_ms: settings.coldStartMs,
    idle_timeout_ms: settings.idleTimeoutMs,
    output_tokens: settings.outputTokens,
    model_status: Object.fromEntries(settings.models),
  };
}
