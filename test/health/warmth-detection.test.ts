import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import {
  warmthVerdict,
  WarmthTracker,
  type WarmthReading,
} from '../../src/health/checks/warmth-detection.js';
import type { ColdAction, WarmthSettings } from '../../src/health/health-config.js';
import type { HealthMonitor } from '../../src/health/health-monitor.js';
import { observeHealthLogs } from '../../src/health/health-observers.js';
import { FakeClock } from '../helpers/fake-clock.js';
import {
  compileTestCluster,
  keyOf,
  loopback,
  published,
  startMonitor,
  stepRound,
} from './health-fixtures.js';
import { COMPLETION, ProbeBackend, sendJson } from './probe-backend.js';

const WARMTH: WarmthSettings = {
  sampleSize: 3,
  coldThresholdMultiplier: 2,
  idleColdTimeoutMs: 60_000,
  coldAction: 'log_only',
};

/** Feeds successes `[latencyMs, atMs]` to a fresh tracker; returns every reading. */
function feed(samples: Array<[number, number]>, settings = WARMTH): WarmthReading[] {
  const tracker = new WarmthTracker();
  return samples.map(([latency, at]) => tracker.observe(latency, at, settings));
}

describe('WarmthTracker', () => {
  it('learns a baseline from the first sample_size successes', () => {
    const readings = feed([
      [90, 0],
      [100, 10_000],
      [110, 20_000],
    ]);

    assert.deepEqual(readings, [
      { kind: 'learning', samples: 1 },
      { kind: 'learning', samples: 2 },
      { kind: 'warm', baselineMs: 100 },
    ]);
  });

  it('then keeps a moving average of the last sample_size warm answers', () => {
    const tracker = new WarmthTracker();
    [100, 100, 100, 160, 190].forEach((latency, index) =>
      tracker.observe(latency, index * 1000, WARMTH),
    );

    assert.equal(tracker.baselineMs, (100 + 160 + 190) / 3);
  });

  it('calls an answer cold when it is slower than multiplier × baseline, not at it', () => {
    const learned: Array<[number, number]> = [
      [100, 0],
      [100, 1000],
      [100, 2000],
    ];
    const atLimit = feed([...learned, [200, 3000]]);
    const overLimit = feed([...learned, [201, 3000]]);

    assert.equal(atLimit[3]?.kind, 'warm');
    assert.deepEqual(overLimit[3], {
      kind: 'cold',
      cause: 'latency',
      detail: 'answered in 201 ms, over 2 × baseline 100 ms',
      latencyMs: 201,
      baselineMs: 100,
    });
  });

  it('keeps cold answers out of the baseline', () => {
    const tracker = new WarmthTracker();
    for (const [latency, at] of [
      [100, 0],
      [100, 1000],
      [100, 2000],
      [5000, 3000],
      [5000, 4000],
    ] as const) {
      tracker.observe(latency, at, WARMTH);
    }

    assert.equal(tracker.baselineMs, 100);
  });

  it('calls the first success after idle_cold_timeout cold, however fast', () => {
    const readings = feed([
      [100, 0],
      [100, 1000],
      [100, 2000],
      [90, 62_000],
      [90, 70_000],
    ]);

    assert.deepEqual(readings[3], {
      kind: 'cold',
      cause: 'idle',
      detail: 'first success after 60 s idle (idle_cold_timeout_secs 60)',
      latencyMs: 90,
      baselineMs: 100,
    });
    assert.equal(readings[4]?.kind, 'warm');
  });

  const actions: Array<{ action: ColdAction; status: string }> = [
    { action: 'log_only', status: 'HEALTHY' },
    { action: 'mark_degraded', status: 'DEGRADED' },
    { action: 'mark_unhealthy', status: 'UNHEALTHY' },
  ];

  for (const { action, status } of actions) {
    it(`gives a cold answer status ${status} with cold_action ${action}, and a reason`, () => {
      const reading: WarmthReading = {
        kind: 'cold',
        cause: 'latency',
        detail: 'slow',
        latencyMs: 250.4,
        baselineMs: 100,
      };

      const verdict = warmthVerdict(reading, { ...WARMTH, coldAction: action });

      assert.equal(verdict.status, status);
      assert.deepEqual(verdict.reasons, [
        {
          check: 'warmth_detection',
          status,
          detail: `cold: slow (cold_action ${action})`,
          value: 250,
        },
      ]);
    });
  }
});

describe('warmth_detection in the monitor', () => {
  const cleanup: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /**
   * A monitor on a fake clock probing one backend that takes the next of
   * `latencies` (fake milliseconds) per answer, or answers 500 for `'fail'`.
   */
  async function setup(coldAction: ColdAction, latencies: Array<number | 'fail'>) {
    const clock = new FakeClock();
    const server = await ProbeBackend.start((_request, response) => {
      const next = latencies.shift() ?? 100;
      if (next === 'fail') return sendJson(response, 500, {});
      clock.advance(next);
      sendJson(response, 200, COMPLETION);
    });
    const cluster = compileTestCluster({
      name: 'llm',
      endpoints: [loopback(server.port)],
      checks: {
        interval: '10s',
        interval_jitter_percent: 0,
        healthy_threshold: 1,
        unhealthy_threshold: 1,
        inference_probe: { model: 'm', timeout_secs: 30 },
        warmth_detection: { sample_size: 3, idle_cold_timeout_secs: 30, cold_action: coldAction },
      },
    });
    const { monitor, logs } = await startMonitor([cluster], { clock });
    observeHealthLogs(monitor, logs.logger);
    cleanup.push(
      () => server.close(),
      () => monitor.stop(),
    );

    const key = keyOf(server.port);
    const step = (ms = 10_000) => stepRound(clock, monitor, key, ms);
    return { monitor, logs, key, step };
  }

  function stable(monitor: HealthMonitor, key: string) {
    return monitor.cluster('llm')?.endpoint(key);
  }

  it('logs a cold model and keeps it HEALTHY with log_only, then logs it warm again', async () => {
    const { monitor, logs, key, step } = await setup('log_only', [100, 100, 100, 250, 100]);

    await step(0);
    await step();
    await step();
    const cold = await step();

    assert.equal(cold.round.warmth?.kind, 'cold');
    assert.equal(published(monitor, 'llm', key).status, 'HEALTHY');
    assert.match(
      published(monitor, 'llm', key).reasons[0]?.detail ?? '',
      /cold: answered in 250 ms/,
    );
    assert.equal(stable(monitor, key)?.isCold, true);
    assert.equal(logs.find(`endpoint ${key} of cluster llm is cold`).length, 1);

    await step();
    assert.equal(stable(monitor, key)?.isCold, false);
    assert.equal(logs.find(`endpoint ${key} of cluster llm is warm`).length, 1);
  });

  it('lowers the weight of a cold endpoint with mark_degraded', async () => {
    const { monitor, key, step } = await setup('mark_degraded', [100, 100, 100, 250]);

    for (const ms of [0, 10_000, 10_000, 10_000]) await step(ms);

    const endpoint = published(monitor, 'llm', key);
    assert.equal(endpoint.status, 'DEGRADED');
    assert.equal(endpoint.weight, 50);
  });

  it('excludes a cold endpoint with mark_unhealthy until it answers warm', async () => {
    const { monitor, key, step } = await setup('mark_unhealthy', [100, 100, 100, 250, 110]);

    for (const ms of [0, 10_000, 10_000, 10_000]) await step(ms);
    assert.equal(stable(monitor, key)?.probe?.status, 'UNHEALTHY');

    await step();
    assert.equal(stable(monitor, key)?.probe?.status, 'HEALTHY');
  });

  it('calls a backend back from an outage longer than idle_cold_timeout cold', async () => {
    const { monitor, key, step } = await setup('mark_degraded', [
      100,
      100,
      100,
      'fail',
      'fail',
      'fail',
      90,
    ]);

    for (let round = 0; round < 6; round++) await step(round === 0 ? 0 : 10_000);
    const back = await step();

    assert.equal(back.round.warmth?.kind, 'cold');
    assert.match(
      published(monitor, 'llm', key).reasons[0]?.detail ?? '',
      /first success after 40 s idle/,
    );
    assert.equal(published(monitor, 'llm', key).status, 'DEGRADED');
  });
});
