/**
 * Token counts of one request, in one shape whatever the provider. The parts
 * nest: `cachedInput` and `cacheCreation` are parts of `input`; `reasoning`
 * is part of `output`. So the uncached input is
 * `input - cachedInput - cacheCreation`, and nothing is counted twice.
 */
export interface TokenUsage {
  /** Every prompt token, including those read from or written to a cache. */
  readonly input: number;
  /** Prompt tokens served from the provider's cache (part of `input`). */
  readonly cachedInput: number;
  /** Prompt tokens written to the provider's cache (part of `input`). */
  readonly cacheCreation: number;
  /** Every generated token, including reasoning. */
  readonly output: number;
  /** Reasoning or "thinking" tokens (part of `output`). */
  readonly reasoning: number;
  /** The provider's total when it states one, else `input + output`. */
  readonly total: number;
}

/** The response formats tollgate reads usage from. */
export const PROVIDER_FORMATS = [
  'openai_chat',
  'openai_completions',
  'openai_embeddings',
  'openai_responses',
  'anthropic_messages',
  'gemini',
  'ollama',
] as const;

/** One of {@link PROVIDER_FORMATS}. */
export type ProviderFormat = (typeof PROVIDER_FORMATS)[number];

/** Usage with every count at zero. */
export const ZERO_USAGE: TokenUsage = Object.freeze({
  input: 0,
  cachedInput: 0,
  cacheCreation: 0,
  output: 0,
  reasoning: 0,
  total: 0,
});
