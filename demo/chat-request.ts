import { MODEL, PRICE_PER_MILLION } from './demo-config.js';
import type { ClientRequest } from './envoy-exchange.js';

/** A chat completion request of `tenant`: one user message, a token cap, JSON or streamed. */
export function chatRequest(
  tenant: string,
  prompt: string,
  maxTokens: number,
  stream = false,
): ClientRequest {
  const body: Record<string, unknown> = {
    model: MODEL,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: maxTokens,
  };
  if (stream) body.stream = true;
  return { tenant, body };
}

/**
 * The usage the mock reports for `prompt` with `maxTokens` (its words in, the
 * cap out), so the demo can check tollgate's figures exactly.
 */
export function mockUsage(prompt: string, maxTokens: number): { input: number; output: number } {
  return { input: prompt.split(/\s+/).filter(Boolean).length, output: maxTokens };
}

/** The cost of `usage` at the demo's prices, in the currency's units. */
export function expectedCost(usage: { input: number; output: number }): number {
  const { input, output } = PRICE_PER_MILLION;
  return (usage.input * input + usage.output * output) / 1_000_000;
}
