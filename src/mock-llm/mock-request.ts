/** The API shapes the mock answers. */
export type MockApi = 'chat' | 'completions' | 'messages';

/** What the mock reads from an inference request body. */
export interface MockRequest {
  readonly api: MockApi;
  readonly model: string;
  /** Prompt tokens: whitespace-separated words of every text in the prompt. */
  readonly promptTokens: number;
  /** The request's output limit, when it set one. */
  readonly maxTokens?: number;
  readonly stream: boolean;
  /** OpenAI `stream_options.include_usage`: a usage chunk ends the stream. */
  readonly includeUsage: boolean;
}

/** A request the mock refuses with 400, and why. */
export interface BadRequest {
  readonly error: string;
}

/**
 * Reads a chat completions, legacy completions or Anthropic messages body.
 * Token counts are deterministic functions of the text (one token per
 * whitespace-separated word) so that tests can assert exact usage.
 */
export function readMockRequest(api: MockApi, body: unknown): MockRequest | BadRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'the request body must be a JSON object' };
  }

  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') {
    return { error: 'model is required (a string)' };
  }

  const prompt = promptTexts(api, fields);
  if ('error' in prompt) return prompt;

  const streamOptions = fields.stream_options as { include_usage?: unknown } | undefined;
  return {
    api,
    model: fields.model,
    promptTokens: prompt.texts.reduce((sum, text) => sum + countWords(text), 0),
    maxTokens: positiveInteger(fields.max_completion_tokens ?? fields.max_tokens),
    stream: fields.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}

/** One token per whitespace-separated word. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

function promptTexts(
  api: MockApi,
  fields: Record<string, unknown>,
): { texts: string[] } | BadRequest {
  if (api === 'completions') {
    const prompt = fields.prompt;
    if (typeof prompt === 'string') return { texts: [prompt] };
    if (Array.isArray(prompt) && prompt.every((item) => typeof item === 'string')) {
      return { texts: prompt };
    }
    return { error: 'prompt is required (a string or a list of strings)' };
  }

  if (!Array.isArray(fields.messages)) return { error: 'messages is required (a list)' };

  const texts = fields.messages.flatMap((message: { content?: unknown }) =>
    contentTexts(message?.content),
  );
  if (api === 'messages') texts.push(...contentTexts(fields.system));
  return { texts };
}

/** Text of a message content: a string, or a list of `{type: 'text', text}` parts. */
function contentTexts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];

  return content
    .map((part: { text?: unknown }) => part?.text)
    .filter((text): text is string => typeof text === 'string');
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
