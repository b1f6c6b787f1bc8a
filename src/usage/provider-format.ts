import type { ProviderFormat } from './token-usage.js';

const BY_PATH: ReadonlyArray<readonly [RegExp, ProviderFormat]> = [
  [/\/chat\/completions$/, 'openai_chat'],
  [/\/embeddings$/, 'openai_embeddings'],
  [/\/completions$/, 'openai_completions'],
  [/\/responses$/, 'openai_responses'],
  [/\/messages$/, 'anthropic_messages'],
  [/:(stream)?generateContent$/i, 'gemini'],
  [/^\/api\/(chat|generate)$/, 'ollama'],
];

/**
 * The provider format a request path implies (`/v1/chat/completions` →
 * `openai_chat`, `/v1/messages` → `anthropic_messages`, `...:generateContent`
 * → `gemini`, `/api/chat` → `ollama`), ignoring the query string. Undefined
 * when the path says nothing; the response's shape decides then.
 */
export function formatFromPath(path: string): ProviderFormat | undefined {
  const bare = path.split('?')[0] ?? '';
  return BY_PATH.find(([pattern]) => pattern.test(bare))?.[1];
}
