import { EnvoyStream, extProcClient, replyKind } from './envoy-client.js';
import { requestBody, requestHeaders, responseBody, responseHeaders } from './envoy-messages.js';

/** A small chat request: its estimate is a few dozen tokens. */
const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'count me' }],
  max_tokens: 5,
});

/** Tokens every completed exchange reports: 7 in, 3 out. */
export const TOKENS_PER_EXCHANGE = 10;

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-load',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});

/** What a budget load run saw, from Envoy's side. */
export interface LoadTally {
  /** Exchanges whose last response body message was answered: settled by then. */
  completed: number;
  /** Exchanges tollgate answered itself (429, 503). */
  answered: number;
  /** Streams that failed with a gRPC error (the process went away). */
  failed: number;
}

/**
 * Envoy-like load on one tenant's budget: `workers` streams at a time, each a
 * whole exchange whose response reports {@link TOKENS_PER_EXCHANGE} tokens,
 * until `stop()` is called. `done` resolves with the tally once every worker
 * has finished its current exchange.
 */
export function runBudgetLoad(port: number, tenant: string, workers: number) {
  const client = extProcClient(port);
  const tally: LoadTally = { completed: 0, answered: 0, failed: 0 };
  let stopping = false;

  const worker = async () => {
    while (!stopping) {
      const outcome = await exchange(new EnvoyStream(client), tenant);
      tally[outcome] += 1;
      if (outcome === 'failed') await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));

  return {
    tally,
    stop: async (): Promise<LoadTally> => {
      stopping = true;
      await running;
      client.close();
      return tally;
    },
  };
}

async function exchange(stream: EnvoyStream, tenant: string): Promise<keyof LoadTally> {
  try {
    const headers = await stream.send(requestHeaders({ headers: { 'x-tenant-id': tenant } }));
    if (replyKind(headers) !== 'request_headers') return outcomeOf(headers, stream);
    const body = await stream.send(requestBody(CHAT, true));
    if (replyKind(body) !== 'request_body') return outcomeOf(body, stream);

    await stream.send(responseHeaders(200, { 'content-type': 'application/json' }));
    const last = await stream.send(responseBody(COMPLETION, true));
    if (replyKind(last) !== 'response_body') return 'failed';
    await stream.halfClose();
    return 'completed';
  } catch {
    return 'failed';
  }
}

function outcomeOf(reply: unknown, stream: EnvoyStream): keyof LoadTally {
  void stream.halfClose().catch(() => undefined);
  return replyKind(reply as never) === 'immediate_response' ? 'answered' : 'failed';
}
