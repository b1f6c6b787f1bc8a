import { FieldReader } from './field-reader.js';
import {
  layoutPaths,
  layoutRoots,
  readUsage,
  type ProviderExtractor,
  type UsageLayout,
} from './extraction.js';
import { anyWord } from './text-signals.js';

// input_tokens counts cached tokens too; output_tokens counts reasoning too.
const LAYOUT: UsageLayout = {
  input: ['usage.input_tokens'],
  cachedInput: ['usage.input_tokens_details.cached_tokens'],
  output: ['usage.output_tokens'],
  reasoning: ['usage.output_tokens_details.reasoning_tokens'],
  total: ['usage.total_tokens'],
};

// The events that end a stream; each carries the final response with its usage.
const TERMINAL_TYPES: ReadonlySet<unknown> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

/**
 * The OpenAI Responses API. A body is a `response` object with `usage` and
 * `model` at the top; a stream's events (`response.created`, ...,
 * `response.completed`) carry the response object under `response`.
 */
export const openAiResponses: ProviderExtractor = {
  extract(document) {
    const reader = new FieldReader(document);
    const type = reader.value('type');
    const prefix = typeof type === 'string' && type.startsWith('response.') ? 'response.' : '';

    const usage = readUsage(reader, LAYOUT, prefix);
    const model = reader.name(`${prefix}model`);
    return { usage, model, rejected: reader.rejected, terminal: TERMINAL_TYPES.has(type) };
  },
  bodyPaths: [...layoutPaths(LAYOUT), 'model', 'type'],
  mayMatter: anyWord([...layoutRoots(LAYOUT), ...(TERMINAL_TYPES as ReadonlySet<string>)]),
};
