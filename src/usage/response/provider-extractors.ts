import { anthropicMessages } from './extractors/anthropic.js';
import type { Extraction, ProviderExtractor } from './extractors/extraction.js';
import { FieldReader } from './extractors/field-reader.js';
import { gemini } from './extractors/gemini.js';
import { ollama } from './extractors/ollama.js';
import { openAiCompletions, openAiEmbeddings } from './extractors/openai.js';
import { openAiResponses } from './extractors/openai-responses.js';
import { PROVIDER_FORMATS, type ProviderFormat } from '../token-usage.js';

export type { Extraction } from './extractors/extraction.js';

const EXTRACTORS: Readonly<Record<ProviderFormat, ProviderExtractor>> = {
  openai_chat: openAiCompletions,
  openai_completions: openAiCompletions,
  openai_embeddings: openAiEmbeddings,
  openai_responses: openAiResponses,
  anthropic_messages: anthropicMessages,
  gemini,
  ollama,
};

const ANTHROPIC_TYPES: ReadonlySet<unknown> = new Set([
  'message',
  'message_start',
  'message_delta',
  'message_stop',
]);

const GEMINI_USAGE = [
  'usageMetadata.promptTokenCount',
  'usageMetadata.candidatesTokenCount',
  'usageMetadata.totalTokenCount',
];

// The fields detectFormat reads beyond those the extractors read.
const SHAPE_PATHS = ['type', 'object'];

const ALL_BODY_PATHS: readonly string[] = [
  ...new Set([...PROVIDER_FORMATS.flatMap((f) => EXTRACTORS[f].bodyPaths), ...SHAPE_PATHS]),
];

/**
 * Reads usage, model and end-of-response from one parsed JSON document (a
 * whole body, one SSE event's data, or one NDJSON line) of `format`, normalised
 * to `TokenUsage`'s nesting. Never throws, whatever the document's shape.
 */
export function extractUsage(document: unknown, format: ProviderFormat): Extraction {
  return EXTRACTORS[format].extract(document);
}

/**
 * Whether a document's raw text may state usage or end the response in
 * `format`: false only when the text rules both out (see
 * `ProviderExtractor.mayMatter`).
 */
export function mayMatter(text: string, format: ProviderFormat): boolean {
  return EXTRACTORS[format].mayMatter(text);
}

/**
 * The format a document's shape shows, for responses whose request path named
 * none: `type: "response.*"` or `object: "response"` → Responses API; an
 * Anthropic message type → Anthropic; `usageMetadata` or `modelVersion` →
 * Gemini; `prompt_eval_count`/`eval_count` → Ollama; OpenAI's `object` names;
 * `usage.prompt_tokens` → OpenAI chat; `usage.input_tokens` → Responses API
 * with a `total_tokens`, else Anthropic. Undefined when nothing matches (an
 * OpenAI chunk without usage, an error body).
 */
export function detectFormat(document: unknown): ProviderFormat | undefined {
  const reader = new FieldReader(document);
  const type = reader.value('type');
  const object = reader.value('object');

  if (object === 'response' || (typeof type === 'string' && type.startsWith('response.'))) {
    return 'openai_responses';
  }
  if (ANTHROPIC_TYPES.has(type)) return 'anthropic_messages';
  if (reader.has('modelVersion') || GEMINI_USAGE.some((path) => reader.has(path))) return 'gemini';
  if (reader.has('prompt_eval_count') || reader.has('eval_count')) return 'ollama';
  return detectOpenAiShape(reader, object);
}

/**
 * The leaf paths a streaming JSON parser must keep so that {@link extractUsage}
 * (and, for an unknown format, {@link detectFormat}) reads the same from them
 * as from the whole body.
 */
export function bodyPathsFor(format: ProviderFormat | undefined): readonly string[] {
  return format === undefined ? ALL_BODY_PATHS : EXTRACTORS[format].bodyPaths;
}

function detectOpenAiShape(reader: FieldReader, object: unknown): ProviderFormat | undefined {
  if (object === 'chat.completion' || object === 'chat.completion.chunk') return 'openai_chat';
  if (object === 'text_completion') return 'openai_completions';
  if (object === 'list' && reader.has('usage.prompt_tokens')) return 'openai_embeddings';
  if (reader.has('usage.prompt_tokens')) return 'openai_chat';

  if (!reader.has('usage.input_tokens')) return undefined;
  return reader.has('usage.total_tokens') ? 'openai_responses' : 'anthropic_messages';
}
