import type { ClientRequest, ForwardedExchange, TollgateAnswer } from './envoy-exchange.js';
import type { Narrator } from './narrator.js';

/** `acme: POST /v1/chat/completions, gpt-4o-mini, streamed, max_tokens 40`. */
export function describeRequest(request: ClientRequest): string {
  const body = request.body;
  const shape = body.stream === true ? 'streamed' : 'JSON';
  const path = request.path ?? '/v1/chat/completions';
  const model = `${String(body.model)}, ${shape}, max_tokens ${String(body.max_tokens)}`;
  return `${request.tenant}: POST ${path}, ${model}`;
}

/** Prints what happened to a forwarded request on its way out and back. */
export function reportForwarded(say: Narrator, result: ForwardedExchange): void {
  const changes = [
    ...result.removed.map((name) => `removed ${name}`),
    ...Object.entries(result.set)
      .filter(([name]) => name !== 'content-length')
      .map(([name, value]) => `set ${name}: ${value}`),
  ];
  say.detail('request', changes.length > 0 ? `tollgate ${changes.join('; ')}` : 'unchanged');
  if (result.upstreamBody !== result.clientBody) {
    const added = bodyAddition(result.clientBody, result.upstreamBody);
    const before = Buffer.byteLength(result.clientBody);
    const lengths = `content-length ${before} -> ${result.set['content-length']}`;
    say.detail('body', `tollgate added ${added} (${lengths})`);
  }

  const type = result.headers['content-type'] ?? 'no content-type';
  const delivery = result.streamed
    ? `, streamed to tollgate in ${result.bodyMessages} messages (mode_override STREAMED)`
    : ', buffered, one body message';
  say.detail('backend', `${result.status} ${type}${delivery}`);

  const added = Object.entries(result.headers).filter(([name]) => name.startsWith('x-tollgate-'));
  if (added.length > 0) {
    say.detail('client', added.map(([name, value]) => `${name}: ${value}`).join(', '));
  }
  say.detail('usage', usageLine(result.usage));
}

/** Prints tollgate's own answer: status, the headers that matter, and the error message. */
export function reportAnswered(say: Narrator, answer: TollgateAnswer): void {
  const shown = Object.entries(answer.headers)
    .filter(([name]) => ['retry-after', 'x-ratelimit-limit'].includes(name))
    .map(([name, value]) => `${name}: ${value}`);
  say.detail('tollgate', `${answer.status} at ${answer.phase}, ${shown.join(', ')}`);
  say.detail('details', `${answer.details} (Envoy's %RESPONSE_CODE_DETAILS%)`);
  say.detail('message', errorOf(answer.body).message ?? answer.body);
}

/** The `error` object of an OpenAI-style error body (empty when the body is not one). */
export function errorOf(body: string): { message?: string; code?: string; type?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; code?: string } };
    return parsed.error ?? {};
  } catch {
    return {};
  }
}

/** `9 input + 40 output = 49 tokens, 0.00002535 USD (reported)`. */
export function usageLine(usage: Readonly<Record<string, string | number>> | undefined): string {
  if (!usage) return 'none in the metadata';
  const tokens =
    `${usage.tokens_input} input + ${usage.tokens_output} output = ` +
    `${usage.tokens_total} tokens`;
  return `${tokens}, ${usage.cost} ${usage.currency} (${usage.usage_source})`;
}

/** The JSON fields the upstream body has and the client's has not, as text. */
function bodyAddition(before: string, after: string): string {
  const original = JSON.parse(before) as Record<string, unknown>;
  const changed = JSON.parse(after) as Record<string, unknown>;
  const added = Object.keys(changed).filter(
    (key) => JSON.stringify(changed[key]) !== JSON.stringify(original[key]),
  );
  return added.map((key) => `"${key}":${JSON.stringify(changed[key])}`).join(', ');
}
