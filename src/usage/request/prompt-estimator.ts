import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import type { LlmRequest } from './llm-request.js';
import { estimateTokens } from './piece-estimate.js';

/** Settings of the request-side token estimate. */
export interface EstimatorSettings {
  /** Output allowance when the request sets no `max_tokens`-like cap. */
  readonly defaultOutputTokens: number;
  /**
   * The longest prompt (all its texts together, in characters) tokenized
   * exactly. A longer one is estimated by {@link estimateTokens}, which
   * costs a tenth or less: exact tokenizing costs about 30 µs per KB of
   * English prose on one core, more for Markdown, and would be most of
   * tollgate's work on a request.
   */
  readonly tokenizeMaxChars: number;
  /** Estimate used when there is no readable body at all. */
  readonly defaultInputTokens: number;
}

/** Tokens a request is expected to use, before the response says. */
export interface TokenEstimate {
  readonly input: number;
  readonly output: number;
}

// Chat formats add a few tokens per message for roles and separators.
const TOKENS_PER_MESSAGE = 4;

/**
 * Estimates a request's input tokens, with the o200k BPE tokenizer (GPT-4o's;
 * close enough for other families, which is what an estimate needs) for a
 * prompt up to `tokenizeMaxChars` long and by its pieces past that, and its
 * output tokens from the request's cap or the default allowance.
 */
export function estimateRequest(request: LlmRequest, settings: EstimatorSettings): TokenEstimate {
  const promptTokens = countPrompt(request.promptTexts, settings.tokenizeMaxChars);
  const input = promptTokens + request.messageCount * TOKENS_PER_MESSAGE;

  return { input, output: request.maxOutputTokens ?? settings.defaultOutputTokens };
}

/** The estimate for a request whose body could not be read. */
export function defaultEstimate(settings: EstimatorSettings): TokenEstimate {
  return { input: settings.defaultInputTokens, output: settings.defaultOutputTokens };
}

function countPrompt(texts: readonly string[], tokenizeMaxChars: number): number {
  let chars = 0;
  for (const text of texts) chars += text.length;

  const count = chars <= tokenizeMaxChars ? countTokens : estimateTokens;
  let tokens = 0;
  for (const text of texts) tokens += count(text);
  return tokens;
}
