import type { InferenceProbeSettings } from '../health-config.js';
import { HEALTHY_VERDICT, verdictOf, type Verdict } from '../health-status.js';
import type { ProbeClient, ProbeResponse, ProbeResult } from '../probe-client.js';
import { describeValue, parseJson } from './json-field.js';

/** What one inference probe found. */
export interface InferenceProbeOutcome {
  readonly verdict: Verdict;
  /** Latency of the whole exchange (also of a failed one). */
  readonly latencyMs: number;
  /** Set when a well-formed completion came back, however slowly: warmth reads it. */
  readonly completionLatencyMs?: number;
  /** The response, when one arrived: queue depth may be read from it. */
  readonly response?: ProbeResponse;
}

/**
 * Sends a minimal completion, as a client would: chat shape when the endpoint
 * path names `chat`, completions shape otherwise. Healthy needs a 2xx, a body
 * with a non-empty `choices` list, and (when `maxLatencyMs` is set) an answer
 * no slower than that.
 */
export async function runInferenceProbe(
  client: ProbeClient,
  settings: InferenceProbeSettings,
): Promise<InferenceProbeOutcome> {
  const result = await client.send({
    method: 'POST',
    path: settings.endpoint,
    json: completionRequest(settings),
    timeoutMs: settings.timeoutMs,
  });

  return judge(result, settings);
}

function completionRequest(settings: InferenceProbeSettings): Record<string, unknown> {
  const common = { model: settings.model, max_tokens: settings.maxTokens, stream: false };
  if (settings.endpoint.includes('chat')) {
    return { ...common, messages: [{ role: 'user', content: settings.prompt }] };
  }
  return { ...common, prompt: settings.prompt };
}

function judge(result: ProbeResult, settings: InferenceProbeSettings): InferenceProbeOutcome {
  const latencyMs = result.latencyMs;
  if (!result.ok) {
    return { verdict: failed(`${result.kind}: ${result.detail}`), latencyMs };
  }
  if (result.status < 200 || result.status > 299) {
    const verdict = failed(`HTTP ${result.status}`, result.status);
    return { verdict, latencyMs, response: result };
  }

  const problem = completionProblem(parseJson(result.body));
  if (problem) return { verdict: failed(problem), latencyMs, response: result };

  const outcome = { latencyMs, completionLatencyMs: latencyMs, response: result };
  if (settings.maxLatencyMs !== undefined && latencyMs > settings.maxLatencyMs) {
    const detail =
      `answered in ${Math.round(latencyMs)} ms, over max_latency_ms ` + settings.maxLatencyMs;
    return { ...outcome, verdict: failed(detail, Math.round(latencyMs)) };
  }
  return { ...outcome, verdict: HEALTHY_VERDICT };
}

/** Why a body is not a completion, or undefined when it is one. */
function completionProblem(document: unknown): string | undefined {
  if (document === undefined) return 'the body is not JSON';
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return `the body is not a JSON object: ${describeValue(document)}`;
  }

  const choices = (document as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return `no completion in the body: choices is ${describeValue(choices)}`;
  }

  const first = choices[0] as { text?: unknown; message?: unknown } | null;
  const hasText = typeof first?.text === 'string';
  const hasMessage = typeof first?.message === 'object' && first.message !== null;
  return hasText || hasMessage ? undefined : 'choices[0] has neither text nor message';
}

function failed(detail: string, value?: number): Verdict {
  return verdictOf({ check: 'inference_probe', status: 'UNHEALTHY', detail, value });
}
