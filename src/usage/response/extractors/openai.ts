import { layoutExtractor, type ProviderExtractor, type UsageLayout } from './extraction.js';

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
 * repeat cumulative usage in every chunk. The end of a stream is `data: [DONE]`,
 * which only the SSE parser sees.
 */
export const openAiCompletions: ProviderExtractor = layoutExtractor(COMPLETION_LAYOUT, 'model');

/** OpenAI embeddings: prompt tokens only, no output. */
export const openAiEmbeddings: ProviderExtractor = layoutExtractor(EMBEDDINGS_LAYOUT, 'model');
