import type { QueueDepthSettings } from '../health-config.js';
import { HEALTHY_VERDICT, verdictOf, type Verdict } from '../health-status.js';
import type { ProbeClient, ProbeResponse } from '../probe-client.js';
import { describeValue, parseJson, readField } from './json-field.js';

/** A depth, or why none could be read. */
export type DepthReading = { ok: true; depth: number } | { ok: false; detail: string };

/**
 * Reads the queue depth: from its own endpoint when one is configured,
 * otherwise from the inference probe's response (`probeResponse`). Depth
 * above `unhealthyThreshold` is UNHEALTHY, above `degradedThreshold`
 * DEGRADED. A depth that cannot be read is DEGRADED: the backend answers,
 * but its load is unknown.
 */
export async function runQueueDepth(
  client: ProbeClient,
  settings: QueueDepthSettings,
  probeResponse: ProbeResponse | undefined,
): Promise<{ verdict: Verdict; depth?: number }> {
  const reading = await readDepth(client, settings, probeResponse);
  if (!reading.ok) {
    return {
      verdict: verdictOf({ check: 'queue_depth', status: 'DEGRADED', detail: reading.detail }),
    };
  }

  return { verdict: judgeDepth(reading.depth, settings), depth: reading.depth };
}

/** Compares a depth with the thresholds. */
export function judgeDepth(depth: number, settings: QueueDepthSettings): Verdict {
  if (depth > settings.unhealthyThreshold) {
    return over(depth, 'UNHEALTHY', 'unhealthy_threshold', settings.unhealthyThreshold);
  }
  if (depth > settings.degradedThreshold) {
    return over(depth, 'DEGRADED', 'degraded_threshold', settings.degradedThreshold);
  }
  return HEALTHY_VERDICT;
}

async function readDepth(
  client: ProbeClient,
  settings: QueueDepthSettings,
  probeResponse: ProbeResponse | undefined,
): Promise<DepthReading> {
  if (!settings.endpoint) {
    if (!probeResponse) return { ok: false, detail: 'no inference probe response to read' };
    return depthFrom(probeResponse, settings);
  }

  const result = await client.send({
    method: 'GET',
    path: settings.endpoint,
    timeoutMs: settings.timeoutMs,
  });
  if (!result.ok)
    return { ok: false, detail: `${settings.endpoint}: ${result.kind}: ${result.detail}` };
  if (result.status < 200 || result.status > 299) {
    return { ok: false, detail: `${settings.endpoint}: HTTP ${result.status}` };
  }
  return depthFrom(result, settings);
}

/** Reads the depth from a header, else a JSON field, else a body that is just a number. */
export function depthFrom(response: ProbeResponse, settings: QueueDepthSettings): DepthReading {
  if (settings.header) {
    const value = response.headers[settings.header];
    if (value !== undefined) return asDepth(value, `header ${settings.header}`);
    if (!settings.bodyField) return { ok: false, detail: `no ${settings.header} header` };
  }

  if (settings.bodyField) {
    const value = readField(parseJson(response.body), settings.bodyField);
    return asDepth(value, `body field ${settings.bodyField}`);
  }
  return asDepth(response.body.toString('utf8').trim(), 'body');
}

function asDepth(value: unknown, where: string): DepthReading {
  const depth = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof depth === 'number' && Number.isFinite(depth) && depth >= 0) {
    return { ok: true, depth };
  }
  return { ok: false, detail: `${where} is ${describeValue(value)}, not a depth` };
}

function over(
  depth: number,
  status: 'DEGRADED' | 'UNHEALTHY',
  threshold: string,
  limit: number,
): Verdict {
  return verdictOf({
    check: 'queue_depth',
    status,
    detail: `queue depth ${depth} is over ${threshold} ${limit}`,
    value: depth,
  });
}
