import { completionText, sseEvent, streamedPiece, type MockCompletion } from './mock-completion.js';

function stopReason(completion: MockCompletion): string {
  return completion.stoppedByLimit ? 'max_tokens' : 'end_turn';
}

/** A `message` object, as `POST /v1/messages` returns without `stream`. */
export function messageJson(completion: MockCompletion): unknown {
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content: [{ type: 'text', text: completionText(completion) }],
    stop_reason: stopReason(completion),
    stop_sequence: null,
    usage: {
      input_tokens: completion.promptTokens,
      output_tokens: completion.completionTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/**
 * The events of a streamed message: `message_start` with the input tokens
 * (and 1 output token, as Anthropic reports it), a text block with one delta
 * per word, then `message_delta` with the cumulative output tokens and
 * `message_stop`.
 */
export function messageEvents(completion: MockCompletion): string[] {
  const event = (type: string, data: Record<string, unknown>) => sseEvent({ type, ...data }, type);

  const start = event('message_start', {
    message: {
      id: completion.id,
      type: 'message',
      role: 'assistant',
      model: completion.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: completion.promptTokens,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  });
  const deltas = completion.words.map((_, index) =>
    event('content_block_delta', {
      index: 0,
      delta: { type: 'text_delta', text: streamedPiece(completion, index) },
    }),
  );

  return [
    start,
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    event('ping', {}),
    ...deltas,
    event('content_block_stop', { index: 0 }),
    event('message_delta', {
      delta: { stop_reason: stopReason(completion), stop_sequence: null },
      usage: { output_tokens: completion.completionTokens },
    }),
    event('message_stop', {}),
  ];
}

/** Anthropic's error body (`api_error`, `overloaded_error`, `not_found_error`, ...). */
export function anthropicError(type: string, message: string): unknown {
  return { type: 'error', error: { type, message } };
}
