import type { MockRequest } from './mock-request.js';

/** The most tokens one mock response generates, whatever the request asks. */
export const MAX_OUTPUT_TOKENS = 16_384;

const VOCABULARY = ['tokens', 'flow', 'from', 'the', 'mock', 'backend'] as const;

/** The answer to one inference request, before it is shaped for an API. */
export interface MockCompletion {
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  readonly model: string;
  /** The generated text, one word per completion token. */
  readonly words: readonly string[];
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Generation stopped at the request's own limit (`length` / `max_tokens`). */
  readonly stoppedByLimit: boolean;
}

/**
 * Generates the completion: the request's `max_tokens` (or
 * `max_completion_tokens`) words when it sets one, else `defaultTokens`,
 * capped at {@link MAX_OUTPUT_TOKENS}. The text cycles through a fixed
 * vocabulary, so equal requests get equal answers.
 */
export function generateCompletion(
  request: MockRequest,
  defaultTokens: number,
  identity: { id: string; created: number },
): MockCompletion {
  const count = Math.min(request.maxTokens ?? defaultTokens, MAX_OUTPUT_TOKENS);
  const words = Array.from({ length: count }, (_, index) => VOCABULARY[index % VOCABULARY.length]!);

  return {
    ...identity,
    model: request.model,
    words,
    promptTokens: request.promptTokens,
    completionTokens: count,
    stoppedByLimit: request.maxTokens !== undefined && count === request.maxTokens,
  };
}

/** The whole generated text. */
export function completionText(completion: MockCompletion): string {
  return completion.words.join(' ');
}

/** The text of the `index`-th streamed piece: the word with its leading space. */
export function streamedPiece(completion: MockCompletion, index: number): string {
  const word = completion.words[index] ?? '';
  return index === 0 ? word : ` ${word}`;
}

/** One server-sent event: optional `event:` line, `data:` line, blank line. */
export function sseEvent(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}
