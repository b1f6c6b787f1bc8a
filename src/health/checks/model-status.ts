import type { ModelStatusSettings } from '../health-config.js';
import { combineVerdicts, HEALTHY_VERDICT, verdictOf, type Verdict } from '../health-status.js';
import type { ProbeClient, ProbeResponse } from '../probe-client.js';
import { describeValue, parseJson, readField } from './json-field.js';

/**
 * Asks the backend about each model in turn (one request at a time, so the
 * endpoint never sees two probes at once) and compares the dotted status
 * field with the expected value. A model that is missing (404), not ready, or
 * unreadable makes the endpoint UNHEALTHY, with one reason per model.
 *
 * A request that gets no answer at all (a timeout, a refused connection)
 * ends the check: the next model would fare no better, and asking anyway
 * would add one timeout per model to the round.
 */
export async function runModelStatus(
  client: ProbeClient,
  settings: ModelStatusSettings,
): Promise<Verdict> {
  const verdicts: Verdict[] = [];
  for (const model of settings.models) {
    const path = settings.endpointPattern.replaceAll('{model}', encodeURIComponent(model));
    const result = await client.send({ method: 'GET', path, timeoutMs: settings.timeoutMs });
    if (!result.ok) {
      verdicts.push(failed(model, `${result.kind}: ${result.detail}`));
      break;
    }
    verdicts.push(judge(result, settings, model));
  }
  return combineVerdicts(verdicts);
}

function judge(result: ProbeResponse, settings: ModelStatusSettings, model: string): Verdict {
  if (result.status === 404) return failed(model, 'not found (HTTP 404)', 404);
  if (result.status < 200 || result.status > 299) {
    return failed(model, `HTTP ${result.status}`, result.status);
  }

  const document = parseJson(result.body);
  if (document === undefined) return failed(model, 'the status body is not JSON');

  const status = readField(document, settings.statusField);
  if (String(status) === settings.expectedStatus && status !== undefined) return HEALTHY_VERDICT;

  const seen = describeValue(status);
  return failed(
    model,
    `${settings.statusField} is ${seen}, expected ${settings.expectedStatus}`,
    seen,
  );
}

function failed(model: string, detail: string, value?: number | string): Verdict {
  return verdictOf({
    check: 'model_status',
    status: 'UNHEALTHY',
    detail: `model ${model}: ${detail}`,
    value,
  });
}
