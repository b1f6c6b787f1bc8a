import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import type { LlmRequest } from './llm-request.js';

/** Settings of the request-side token estimate. */
export interface EstimatorSettings {
  /** Output allowance when the request sets no `max_tokens`-like cap. */
  readonly defaultOutputTokens: number;
  /**
   * Prompt characters tokenized exactly. Past this, the rest of the prompt is
   * estimated at the token-per-character ratio of the part that was
   * tokenized: exact tokenization costs about 0.2 ms per KB on one core,
   * which a 1 MB prompt must not spend on the request path.
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

// The usual English ratio, used only when no text could be tokenized at all.
const CHARS_PER_TOKEN = 4;

/**
 * Estimates a request's input tokens with the o200k BPE tokenizer (GPT-4o's;
 * close enough for other families, which is what an estimate needs) and its
 * output tokens from the request's cap or the default allowance.
 */
export function estimateRequest(request: LlmRequest, settings: EstimatorSettings): TokenEstimate {
  const promptTokens = estimateTexts(request.promptTexts, settings.tokenizeMaxChars);
  const input = promptTokens + request.messageCount * TOKENS_PER_MESSAGE;

  return { input, output: request.maxOutputTokens ?? settings.defaultOutputTokens };
}

/** The estimate for a request whose body could not be read. */
export function defaultEstimate(settings: EstimatorSettings): TokenEstimate {
  return { input: settings.defaultInputTokens, output: settings.defaultOutputTokens };
}

function estimateTexts(texts: readonly string[], budgetChars: number): number {
  let tokens = 0;
  let tokenizedChars = 0;
  let skippedChars = 0;

  for (const text of texts) {
    const room = budgetChars - tokenizedChars;
    if (room <= 0) {
      skippedChars += text.length;
      continue;
    }

    const part = text.length <= room ? text : text.slice(0, room);
    tokens += countTokens(part);
    tokenizedChars += part.length;
    skippedChars += text.length - part.length;
  }

  if (skippedChars === 0) return tokens;
  if (tokenizedChars === 0) return Math.ceil(skippedChars / CHARS_PER_TOKEN);
  return tokens + Math.ceil((skippedChars * tokens) / tokenizedChars);
}
