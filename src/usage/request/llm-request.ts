import type { ProviderFormat } from '../token-usage.js';

/** What tollgate reads from an LLM request body. */
export interface LlmRequest {
  /** The model the client asked for, if the body names one. */
  readonly model?: string;
  /** The client asked for a streamed response. */
  readonly stream: boolean;
  /** The client's cap on generated tokens, from whichever field the format uses. */
  readonly maxOutputTokens?: number;
  /** The prompt's text parts, in order, for token estimation. */
  readonly promptTexts: readonly string[];
  /** How many messages (or input items) the prompt has; each costs a few tokens. */
  readonly messageCount: number;
}

/** Why a request body could not be read. */
export type RequestBodyProblem = 'not_json' | 'not_an_object' | 'too_large';

/** The parsed body and what tollgate read from it, or why it could not. */
export type ParsedRequestBody =
  | { ok: true; request: LlmRequest; json: Record<string, unknown> }
  | { ok: false; problem: RequestBodyProblem };

const MAX_TOKENS_FIELDS = ['max_completion_tokens', 'max_tokens', 'max_output_tokens'];

/**
 * Parses a request body as JSON and reads the model, the stream flag, the
 * output cap and the prompt text. Never throws: a body that is not a JSON
 * object is a problem value (the request still goes through; usage is then
 * estimated from defaults).
 */
export function parseRequestBody(body: Buffer, format?: ProviderFormat): ParsedRequestBody {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problem: 'not_json' };
  }
  if (!isObject(json)) return { ok: false, problem: 'not_an_object' };

  const texts: string[] = [];
  const messageCount = collectPrompt(json, texts);
  const request: LlmRequest = {
    model: typeof json.model === 'string' ? json.model : undefined,
    stream: streamRequested(json, format),
    maxOutputTokens: maxOutputTokensOf(json),
    promptTexts: texts,
    messageCount,
  };
  return { ok: true, request, json };
}

/**
 * Ollama's native API streams unless told not to; the others stream only when
 * asked. Gemini streams by endpoint (`streamGenerateContent`), not by a body
 * flag, so its answer here is false and the path decides.
 */
function streamRequested(json: Record<string, unknown>, format?: ProviderFormat): boolean {
  if (format === 'ollama') return json.stream !== false;
  return json.stream === true;
}

function maxOutputTokensOf(json: Record<string, unknown>): number | undefined {
  for (const field of MAX_TOKENS_FIELDS) {
    const value = json[field];
    if (isCount(value)) return value;
  }

  const gemini = isObject(json.generationConfig)
    ? json.generationConfig.maxOutputTokens
    : undefined;
  if (isCount(gemini)) return gemini;

  const ollama = isObject(json.options) ? json.options.num_predict : undefined;
  return isCount(ollama) ? ollama : undefined;
}

/** Collects prompt text from every format's fields; returns the number of messages. */
function collectPrompt(json: Record<string, unknown>, texts: string[]): number {
  let messages = 0;

  for (const field of ['system', 'instructions', 'prompt', 'input']) {
    const value = json[field];
    if (Array.isArray(value)) messages += value.length;
    collectText(value, texts);
  }
  if (Array.isArray(json.messages)) {
    messages += json.messages.length;
    collectText(json.messages, texts);
  }
  if (Array.isArray(json.contents)) {
    messages += json.contents.length;
    collectText(json.contents, texts);
  }
  if (isObject(json.systemInstruction)) collectText(json.systemInstruction, texts);

  return messages;
}

const TEXT_FIELDS = ['content', 'text', 'parts', 'input'];
const MAX_DEPTH = 8;

/**
 * Gathers strings from the shapes prompts take: a string, an array of
 * strings or parts, or a message whose `content`/`text`/`parts` hold them.
 * Depth is bounded so a hostile body cannot recurse without end.
 */
function collectText(value: unknown, texts: string[], depth = 0): void {
  if (depth > MAX_DEPTH) return;

  if (typeof value === 'string') {
    texts.push(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectText(item, texts, depth + 1);
    return;
  }
  if (!isObject(value)) return;

  for (const field of TEXT_FIELDS) collectText(value[field], texts, depth + 1);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 10_000_000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
