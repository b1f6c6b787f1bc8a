import type { Clock } from '../time/clock.js';
import { runInferenceProbe, type InferenceProbeOutcome } from './checks/inference-probe.js';
import { runModelStatus } from './checks/model-status.js';
import { runQueueDepth } from './checks/queue-depth.js';
import {
  warmthVerdict,
  type WarmthReading,
  type WarmthTracker,
} from './checks/warmth-detection.js';
import type { CheckSettings } from './health-config.js';
import { combineVerdicts, type CheckName, type Verdict } from './health-status.js';
import type { ProbeClient } from './probe-client.js';

/** What one check of a round did. */
export interface CheckRun {
  readonly check: CheckName;
  /** What this check alone concluded. */
  readonly status: Verdict['status'];
  /** Time spent on this check's requests; absent for checks that send none (warmth). */
  readonly latencyMs?: number;
  /** True when the check's request failed or its answer was not acceptable. */
  readonly failed: boolean;
}

/** One probe round of one endpoint: every configured check, one request at a time. */
export interface ProbeRound {
  /** Wall-clock milliseconds when the round started and finished. */
  readonly startedAtWallMs: number;
  readonly finishedAtWallMs: number;
  /** Monotonic duration of the whole round. */
  readonly durationMs: number;
  /** Every check's findings combined: the worst status, every reason. */
  readonly verdict: Verdict;
  readonly checks: readonly CheckRun[];
  /** Set when warmth detection saw a successful inference this round. */
  readonly warmth?: WarmthReading;
  /** Set when a queue depth was read. */
  readonly queueDepth?: number;
}

/** What a round needs: the endpoint's client, its checks, and its warmth state. */
export interface ProbeRoundInput {
  readonly client: ProbeClient;
  readonly checks: CheckSettings;
  readonly warmth?: WarmthTracker;
  readonly clock: Clock;
}

/**
 * Runs every configured check of one endpoint in turn: the inference probe,
 * then warmth (from the probe's latency), then the queue depth (from the
 * probe's response or its own endpoint), then each model's status. The
 * requests are sequential so that an endpoint never sees two probes at once;
 * each is bounded by its own timeout. Never throws: failures are verdicts.
 *
 * An inference probe that gets no answer at all (a timeout, a refused
 * connection) ends the round: the endpoint is UNHEALTHY whatever the other
 * checks say, and asking them would only add their timeouts to the time it
 * takes to publish that.
 */
export async function runProbeRound(input: ProbeRoundInput): Promise<ProbeRound> {
  const { clock, checks } = input;
  const startedAtWallMs = clock.wallMs();
  const started = clock.monotonicMs();
  const runs: CheckRun[] = [];
  const verdicts: Verdict[] = [];
  const record = (run: CheckRun, verdict: Verdict) => {
    runs.push(run);
    verdicts.push(verdict);
  };
  const finish = (extra: Pick<ProbeRound, 'warmth' | 'queueDepth'> = {}): ProbeRound => ({
    startedAtWallMs,
    finishedAtWallMs: clock.wallMs(),
    durationMs: clock.monotonicMs() - started,
    verdict: combineVerdicts(verdicts),
    checks: runs,
    ...extra,
  });

  const probe = checks.inferenceProbe
    ? await runInferenceProbe(input.client, checks.inferenceProbe)
    : undefined;
  if (probe) record(probeRun(probe), probe.verdict);
  if (probe && !probe.response) return finish();

  const warmth = observeWarmth(input, probe, started);
  if (warmth) record(warmth.run, warmth.verdict);

  const queueDepth = await readQueue(input, probe, record);

  if (checks.modelStatus) {
    const before = clock.monotonicMs();
    const verdict = await runModelStatus(input.client, checks.modelStatus);
    const latencyMs = clock.monotonicMs() - before;
    const failed = verdict.status !== 'HEALTHY';
    record({ check: 'model_status', status: verdict.status, latencyMs, failed }, verdict);
  }

  return finish({ warmth: warmth?.reading, queueDepth });
}

function probeRun(probe: InferenceProbeOutcome): CheckRun {
  const status = probe.verdict.status;
  return {
    check: 'inference_probe',
    status,
    latencyMs: probe.latencyMs,
    failed: status !== 'HEALTHY',
  };
}

function observeWarmth(
  input: ProbeRoundInput,
  probe: InferenceProbeOutcome | undefined,
  atMs: number,
) {
  const settings = input.checks.warmth;
  const latencyMs = probe?.completionLatencyMs;
  if (!settings || !input.warmth || latencyMs === undefined) return undefined;

  const reading = input.warmth.observe(latencyMs, atMs, settings);
  const verdict = warmthVerdict(reading, settings);
  const run: CheckRun = { check: 'warmth_detection', status: verdict.status, failed: false };
  return { reading, verdict, run };
}

async function readQueue(
  input: ProbeRoundInput,
  probe: InferenceProbeOutcome | undefined,
  record: (run: CheckRun, verdict: Verdict) => void,
): Promise<number | undefined> {
  const settings = input.checks.queueDepth;
  if (!settings) return undefined;

  const before = input.clock.monotonicMs();
  const result = await runQueueDepth(input.client, settings, probe?.response);
  const latencyMs = settings.endpoint ? input.clock.monotonicMs() - before : undefined;
  const failed = result.depth === undefined;
  // A failed probe's answer (a 503, say) may still carry the depth, and then
  // it counts; an error page without it is the probe's failure, not the queue's.
  const probeFailed = probe !== undefined && probe.verdict.status !== 'HEALTHY';
  if (failed && !settings.endpoint && probeFailed) return undefined;

  record(
    { check: 'queue_depth', status: result.verdict.status, latencyMs, failed },
    result.verdict,
  );
  return result.depth;
}
