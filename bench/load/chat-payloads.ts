/** The model every simulated request names (priced in the bench configs). */
export const BENCH_MODEL = 'gpt-4o-mini';

/** Tokens the simulated provider reports, in the JSON body and in the last SSE event. */
export const REPORTED_USAGE = { prompt_tokens: 212, completion_tokens: 96, total_tokens: 308 };

const SYSTEM_PROMPT =
  'You are a careful assistant for a logistics company. Answer in plain English, cite the ' +
  'shipment identifiers you were given, never invent tracking numbers, and keep answers under ' +
  'two hundred words unless the user asks for a table. When a question is ambiguous, ask one ' +
  'clarifying question before answering. Dates are in ISO 8601 and times in UTC.';

const USER_PROMPT =
  'Shipment SH-20931 left the Rotterdam hub on 2024-11-02 and shipment SH-20944 left Antwerp ' +
  'on 2024-11-03. Both were due in Milan by 2024-11-06 but only the first one arrived. The ' +
  'carrier says the second one is held at customs because the commercial invoice lists the ' +
  'wrong tariff code for the pallets of ceramic tiles. Summarise what happened, list the ' +
  'documents we must send to release it, and draft a short apology to the customer that ' +
  'does not promise a delivery date we cannot keep. Include the two shipment identifiers.';

/**
 * A chat completion request body of about 1 KB, as an OpenAI SDK sends it.
 * A streamed request does not ask for usage itself, so tollgate's
 * `inject_stream_usage` rewrites it, as it would for most clients.
 */
export function chatRequestBody(stream: boolean): Buffer {
  const body = {
    model: BENCH_MODEL,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: USER_PROMPT },
    ],
    temperature: 0.2,
    max_tokens: 400,
    user: 'bench-user-17',
    ...(stream ? { stream: true } : {}),
  };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

const ANSWER_WORDS = (
  'Shipment SH-20931 arrived in Milan on time. Shipment SH-20944 is held by customs because ' +
  'the commercial invoice carries the wrong tariff code for ceramic tiles. Send a corrected ' +
  'invoice and the packing list to the broker.'
).split(' ');

/** A non-streamed chat completion with its usage, about 1 KB. */
export function chatCompletionJson(): Buffer {
  const body = {
    id: 'chatcmpl-bench0001',
    object: 'chat.completion',
    created: 1_730_000_000,
    model: `${BENCH_MODEL}-2024-07-18`,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: ANSWER_WORDS.join(' '), refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      ...REPORTED_USAGE,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
  };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function sseEvent(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function deltaChunk(content: string, finishReason: string | null): unknown {
  return {
    id: 'chatcmpl-bench0001',
    object: 'chat.completion.chunk',
    created: 1_730_000_000,
    model: `${BENCH_MODEL}-2024-07-18`,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finishReason }],
  };
}

/**
 * A streamed chat completion as `chunkCount` response body chunks, the way an
 * upstream flushes them: one delta event per chunk, then a last chunk with the
 * usage event (`choices: []`) and `data: [DONE]`.
 */
export function chatCompletionSseChunks(chunkCount = 20): Buffer[] {
  const deltas = chunkCount - 1;
  const chunks: Buffer[] = [];
  for (let index = 0; index < deltas; index++) {
    const word = ANSWER_WORDS[index % ANSWER_WORDS.length]!;
    const finish = index === deltas - 1 ? 'stop' : null;
    chunks.push(Buffer.from(sseEvent(deltaChunk(`${word} `, finish)), 'utf8'));
  }

  const usage = {
    id: 'chatcmpl-bench0001',
    object: 'chat.completion.chunk',
    created: 1_730_000_000,
    model: `${BENCH_MODEL}-2024-07-18`,
    choices: [],
    usage: REPORTED_USAGE,
  };
  chunks.push(Buffer.from(`${sseEvent(usage)}data: [DONE]\n\n`, 'utf8'));
  return chunks;
}
