import { chatRequestBody } from '../load/chat-payloads.js';
import { parseRequestBody } from '../../src/usage/request/llm-request.js';
import {
  estimateRequest,
  type EstimatorSettings,
} from '../../src/usage/request/prompt-estimator.js';

/** One measured prompt size. */
export interface TokenEstimationResult {
  /** Request body size, in KiB. */
  readonly bodyKiB: number;
  /** Parse plus estimate, microseconds per request. */
  readonly microsPerRequest: number;
  /** The same per KiB of body. */
  readonly microsPerKiB: number;
  readonly inputTokens: number;
}

const PARAGRAPH =
  'The shipment left the Rotterdam hub on the second of November and was due in Milan four ' +
  'days later; the carrier reports a customs hold because the invoice lists a wrong tariff ' +
  'code for ceramic tiles, and asks for a corrected invoice, a packing list and a letter. ';

function chatBody(kib: number): Buffer {
  const content = PARAGRAPH.repeat(Math.ceil((kib * 1024) / PARAGRAPH.length));
  const body = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a careful logistics assistant.' },
      { role: 'user', content: content.slice(0, kib * 1024 - 200) },
    ],
    max_tokens: 400,
  };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/**
 * Times what tollgate does with a request body when usage is on: parse the
 * JSON and estimate the prompt's tokens. Each iteration changes one character
 * so no tokenizer cache can answer from memory.
 */
export function measureTokenEstimation(
  kib: number,
  settings: EstimatorSettings,
  minimumMs = 300,
): TokenEstimationResult {
  const base = chatBody(kib);
  const bodies = Array.from({ length: 16 }, (_, index) => {
    const copy = Buffer.from(base);
    copy[copy.length - 40] = 0x61 + index;
    return copy;
  });

  let iterations = 0;
  let inputTokens = 0;
  const started = performance.now();
  while (performance.now() - started < minimumMs) {
    const parsed = parseRequestBody(bodies[iterations % bodies.length]!);
    if (!parsed.ok) throw new Error(`the bench body did not parse: ${parsed.problem}`);
    inputTokens = estimateRequest(parsed.request, settings).input;
    iterations++;
  }
  const micros = ((performance.now() - started) * 1000) / iterations;

  return {
    bodyKiB: base.length / 1024,
    microsPerRequest: micros,
    microsPerKiB: micros / (base.length / 1024),
    inputTokens,
  };
}

/** The input estimate of the load bench's chat request, by pieces and exact. */
export interface EstimateAccuracy {
  readonly estimated: number;
  readonly exact: number;
}

/** Compares the default estimate of the load bench's ~1 KB request with exact tokenizing. */
export function measureEstimateAccuracy(): EstimateAccuracy {
  const parsed = parseRequestBody(chatRequestBody(false));
  if (!parsed.ok) throw new Error(`the load bench body did not parse: ${parsed.problem}`);

  const settings = { defaultOutputTokens: 0, defaultInputTokens: 0, tokenizeMaxChars: 512 };
  const estimated = estimateRequest(parsed.request, settings).input;
  const exact = estimateRequest(parsed.request, { ...settings, tokenizeMaxChars: 64 << 20 }).input;
  return { estimated, exact };
}
