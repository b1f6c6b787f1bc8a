import { completionText, sseEvent, streamedPiece, type MockCompletion } from './mock-completion.js';

/** OpenAI's usage object; cached and reasoning counts are always 0 here. */
function usage(completion: MockCompletion, legacy: boolean) {
  const counts = {
    prompt_tokens: completion.promptTokens,
    completion_tokens: completion.completionTokens,
    total_tokens: completion.promptTokens + completion.completionTokens,
  };
  if (legacy) return counts;

  return {
    ...counts,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function finishReason(completion: MockCompletion): string {
  return completion.stoppedByLimit ? 'length' : 'stop';
}

/** A `chat.completion` object, as `POST /v1/chat/completions` returns without `stream`. */
export function chatCompletionJson(completion: MockCompletion): unknown {
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: completionText(completion) },
        logprobs: null,
        finish_reason: finishReason(completion),
      },
    ],
    usage: usage(completion, false),
  };
}

/**
 * The events of a streamed chat completion: a role chunk, one chunk per word,
 * a chunk with the finish reason, then (with `include_usage`) a chunk with
 * empty `choices` and the usage, and `[DONE]`. With `include_usage` every
 * earlier chunk carries `usage: null`, as OpenAI's do.
 */
export function chatCompletionEvents(completion: MockCompletion, includeUsage: boolean): string[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseEvent({
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  const choice = (delta: unknown, reason: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: reason,
  });

  const events = [chunk([choice({ role: 'assistant', content: '' })])];
  completion.words.forEach((_, index) => {
    events.push(chunk([choice({ content: streamedPiece(completion, index) })]));
  });
  events.push(chunk([choice({}, finishReason(completion))]));
  if (includeUsage) events.push(chunk([], { usage: usage(completion, false) }));
  events.push(sseEvent('[DONE]'));
  return events;
}

/** A `text_completion` object, as `POST /v1/completions` returns without `stream`. */
export function textCompletionJson(completion: MockCompletion): unknown {
  return {
    id: completion.id,
    object: 'text_completion',
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        text: completionText(completion),
        logprobs: null,
        finish_reason: finishReason(completion),
      },
    ],
    usage: usage(completion, true),
  };
}

/** The events of a streamed legacy completion, framed like the chat ones. */
export function textCompletionEvents(completion: MockCompletion, includeUsage: boolean): string[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseEvent({
      id: completion.id,
      object: 'text_completion',
      created: completion.created,
      model: completion.model,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  const last = completion.words.length - 1;

  const events = completion.words.map((_, index) =>
    chunk([
      {
        index: 0,
        text: streamedPiece(completion, index),
        logprobs: null,
        finish_reason: index === last ? finishReason(completion) : null,
      },
    ]),
  );
  if (includeUsage) events.push(chunk([], { usage: usage(completion, true) }));
  events.push(sseEvent('[DONE]'));
  return events;
}

/** OpenAI's error body. */
export function openAiError(message: string, type: string, code: string): unknown {
  return { error: { message, type, code, param: null } };
}
