import type { LlmRequest } from './llm-request.js';
import type { ProviderFormat } from '../token-usage.js';

const FORMATS_WITH_OPTION: ReadonlySet<ProviderFormat | undefined> = new Set([
  'openai_chat',
  'openai_completions',
]);

/**
 * For a streamed OpenAI-style completion whose body does not already ask for
 * usage, returns the body with `stream_options.include_usage: true`, so that
 * the provider reports usage in a final chunk. Returns undefined when nothing
 * needs to change.
 *
 * When the body has no `stream_options`, the field is spliced in before the
 * closing brace and every other byte is kept as the client sent it. When it
 * has `stream_options` without `include_usage: true`, the body is
 * re-serialized, which keeps the values but not the formatting (integers past
 * 2^53 would lose precision; no OpenAI request field holds one).
 */
export function withStreamUsage(
  body: Buffer,
  json: Record<string, unknown>,
  request: LlmRequest,
  format: ProviderFormat | undefined,
): Buffer | undefined {
  if (!request.stream || !FORMATS_WITH_OPTION.has(format)) return undefined;

  const options = json.stream_options;
  if (options === undefined) return spliceOption(body, json);
  if (typeof options !== 'object' || Array.isArray(options)) return undefined;
  if (options !== null && (options as Record<string, unknown>).include_usage === true) {
    return undefined;
  }

  const updated = { ...json, stream_options: { ...options, include_usage: true } };
  return Buffer.from(JSON.stringify(updated));
}

function spliceOption(body: Buffer, json: Record<string, unknown>): Buffer {
  const text = body.toString('utf8');
  const close = text.lastIndexOf('}');
  const field = '"stream_options":{"include_usage":true}';
  const separator = Object.keys(json).length > 0 ? ',' : '';

  return Buffer.from(`${text.slice(0, close)}${separator}${field}${text.slice(close)}`);
}
