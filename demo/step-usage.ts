import { chatRequest, expectedCost, mockUsage } from './chat-request.js';
import { ACME } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';
import { expectForwarded, playExchange, type ForwardedExchange } from './envoy-exchange.js';
import { describeRequest, reportForwarded } from './exchange-report.js';
import type { Narrator } from './narrator.js';

const JSON_PROMPT = 'Name three rivers that flow through Europe.';
const STREAM_PROMPT = 'Write a haiku about toll roads at night.';

/**
 * Step 1: a JSON and a streamed chat completion for tenant acme, each through
 * ext_proc and the real backend, with the tokens and cost tollgate settles.
 */
export async function usageStep(stack: DemoStack, say: Narrator): Promise<void> {
  say.begin(
    1,
    'Normal requests: tokens and cost',
    'Envoy sends each request to tollgate (ext_proc), forwards it to the backend as',
    'tollgate changed it, and passes the response back through tollgate, which reads',
    'the usage the backend reports and prices it.',
  );

  const json = chatRequest(ACME, JSON_PROMPT, 40);
  say.paragraph(describeRequest(json));
  const plain = expectForwarded(await playExchange(stack.extProc, stack.mock.url, json));
  reportForwarded(say, plain);
  checkUsage(say, plain, mockUsage(JSON_PROMPT, 40));
  say.check(
    plain.headers['x-tollgate-cost'] === plain.usage?.cost,
    'the buffered JSON response carries the cost in x-tollgate-cost',
    plain.headers,
  );

  const sse = chatRequest(ACME, STREAM_PROMPT, 24, true);
  say.paragraph(describeRequest(sse));
  const streamed = expectForwarded(await playExchange(stack.extProc, stack.mock.url, sse));
  reportForwarded(say, streamed);
  say.check(
    streamed.upstreamBody.includes('"include_usage":true'),
    'tollgate asked the backend for usage in the stream (stream_options.include_usage)',
    streamed.upstreamBody,
  );
  say.check(streamed.streamed, 'the event stream reached tollgate chunk by chunk (STREAMED)');
  checkUsage(say, streamed, mockUsage(STREAM_PROMPT, 24));
}

/** Checks the settled tokens and cost against what the mock reports. */
function checkUsage(
  say: Narrator,
  result: ForwardedExchange,
  usage: { input: number; output: number },
): void {
  const metadata = result.usage;
  say.check(result.status === 200, 'the backend answered 200', result.status);
  say.check(
    metadata?.usage_source === 'reported' &&
      metadata.tokens_input === usage.input &&
      metadata.tokens_output === usage.output,
    `tollgate counted the ${usage.input} input and ${usage.output} output tokens reported`,
    metadata,
  );

  const cost = expectedCost(usage);
  say.check(
    Math.abs(Number(metadata?.cost) - cost) < 1e-12,
    `priced at ${cost.toFixed(8)} USD (0.15 in, 0.60 out per million tokens)`,
    metadata?.cost,
  );
}
