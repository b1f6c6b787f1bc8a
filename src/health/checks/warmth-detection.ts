import type { WarmthSettings } from '../health-config.js';
import { HEALTHY_VERDICT, verdictOf, type HealthStatus, type Verdict } from '../health-status.js';

/** What one successful inference said about the model's warmth. */
export type WarmthReading =
  | { readonly kind: 'learning'; readonly samples: number }
  | { readonly kind: 'warm'; readonly baselineMs: number }
  | {
      readonly kind: 'cold';
      readonly cause: 'latency' | 'idle';
      readonly detail: string;
      readonly latencyMs: number;
      readonly baselineMs?: number;
    };

/**
 * The latency baseline of one endpoint and the cold verdicts drawn from it.
 *
 * The baseline is the mean of the first `sampleSize` successful inference
 * latencies; after that it is a moving average over the last `sampleSize`
 * warm answers. A cold answer is kept out of the average, so a model that
 * keeps going cold does not teach the baseline to expect it.
 *
 * An answer is cold when it is slower than `coldThresholdMultiplier` ×
 * baseline, or when it is the first success after `idleColdTimeoutMs`
 * without one: the model was idle that long and has presumably been
 * unloaded, so this answer paid for the reload whatever its latency.
 * Probes are inference requests themselves, so that idle time is an outage
 * of the probes, not a lull in client traffic, which tollgate cannot see per
 * endpoint.
 */
export class WarmthTracker {
  private readonly samples: number[] = [];
  private ready = false;
  private lastSuccessMs: number | undefined;

  /** The current baseline in milliseconds; undefined while still learning. */
  get baselineMs(): number | undefined {
    if (!this.ready || this.samples.length === 0) return undefined;
    return this.samples.reduce((sum, sample) => sum + sample, 0) / this.samples.length;
  }

  /** Records a successful inference that started at `atMs` (monotonic) and took `latencyMs`. */
  observe(latencyMs: number, atMs: number, settings: WarmthSettings): WarmthReading {
    const idleMs = this.lastSuccessMs === undefined ? 0 : atMs - this.lastSuccessMs;
    this.lastSuccessMs = atMs;

    if (idleMs >= settings.idleColdTimeoutMs) {
      const detail =
        `first success after ${Math.round(idleMs / 1000)} s idle ` +
        `(idle_cold_timeout_secs ${settings.idleColdTimeoutMs / 1000})`;
      return { kind: 'cold', cause: 'idle', detail, latencyMs, baselineMs: this.baselineMs };
    }

    const baselineMs = this.baselineMs;
    if (baselineMs === undefined) return this.learn(latencyMs, settings);

    const limitMs = baselineMs * settings.coldThresholdMultiplier;
    if (latencyMs > limitMs) {
      const detail =
        `answered in ${Math.round(latencyMs)} ms, over ${settings.coldThresholdMultiplier} × ` +
        `baseline ${Math.round(baselineMs)} ms`;
      return { kind: 'cold', cause: 'latency', detail, latencyMs, baselineMs };
    }

    this.add(latencyMs, settings.sampleSize);
    return { kind: 'warm', baselineMs: this.baselineMs ?? baselineMs };
  }

  private learn(latencyMs: number, settings: WarmthSettings): WarmthReading {
    this.add(latencyMs, settings.sampleSize);
    if (this.samples.length >= settings.sampleSize) this.ready = true;

    const baselineMs = this.baselineMs;
    return baselineMs === undefined
      ? { kind: 'learning', samples: this.samples.length }
      : { kind: 'warm', baselineMs };
  }

  private add(latencyMs: number, window: number): void {
    this.samples.push(latencyMs);
    while (this.samples.length > window) this.samples.shift();
  }
}

const COLD_STATUS: Record<WarmthSettings['coldAction'], HealthStatus> = {
  log_only: 'HEALTHY',
  mark_degraded: 'DEGRADED',
  mark_unhealthy: 'UNHEALTHY',
};

/**
 * The verdict of a warmth reading under `cold_action`. A cold reading always
 * leaves a reason (so `/health` shows it); with `log_only` that reason's
 * status is HEALTHY and the endpoint keeps its status.
 */
export function warmthVerdict(reading: WarmthReading, settings: WarmthSettings): Verdict {
  if (reading.kind !== 'cold') return HEALTHY_VERDICT;

  const status = COLD_STATUS[settings.coldAction];
  const detail = `cold: ${reading.detail} (cold_action ${settings.coldAction})`;
  return verdictOf({
    check: 'warmth_detection',
    status,
    detail,
    value: Math.round(reading.latencyMs),
  });
}
