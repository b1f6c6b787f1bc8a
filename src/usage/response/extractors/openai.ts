import { layoutExtractor, type ProviderExtractor, type UsageLayout } from './extraction.js';
import { FieldReader } from './field-reader.js';

// prompt_tokens counts cached tokens too, and completion_tokens counts
// reasoning tokens too, so both nest as TokenUsage expects.
const COMPLETION_LAYOUT: UsageLayout = {
  input: ['usage.prompt_tokens'],
  cachedInput: ['usage.prompt_tokens_details.cached_tokens'],
  output: ['usage.completion_tokens'],
  reasoning: ['usage.completion_tokens_details.reasoning_tokens'],
  total: ['usage.total_tokens'],
};

const EMBEDDINGS_LAYOUT: UsageLayout = {
  input: ['usage.prompt_tokens'],
  total: ['usage.total_tokens'],
};

/**
 * OpenAI chat completions (`chat.completion` bodies and `chat.completion.chunk`
 * events) and the legacy completions API, which report usage alike. A stream
 * reports it in a last chunk with `choices: []` (when asked with
 * `stream_options.include_usage`); OpenAI-compatible servers such as vLLM may
 * repeat cumulative usage in every chunk, and llama.cpp puts it in the chunk
 * that finishes the choice. The end of a stream is `data: [DONE]`, which only
 * the SSE parser sees.
 */
export const openAiCompletions: ProviderExtractor = layoutExtractor(
  COMPLETION_LAYOUT,
  'model',
  isFinishedCompletion,
);

/** OpenAI embeddings: prompt tokens only, no output; a body's usage is final. */
export const openAiEmbeddings: ProviderExtractor = layoutExtractor(
  EMBEDDINGS_LAYOUT,
  'model',
  () => true,
);

// Usage is final in the usage-only chunk (`choices: []`) and in a chunk or
// body whose choices have finished (a `finish_reason`); a running count in a
// chunk mid-stream (vLLM's continuous usage) is not.
function isFinishedCompletion(reader: FieldReader): boolean {
  const choices = reader.value('choices');
  if (!Array.isArray(choices)) return false;
  if (choices.length === 0) return true;
  return choices.some(
    (choice) => typeof new FieldReader(choice).value('finish_reason') === 'string',
  );
}
