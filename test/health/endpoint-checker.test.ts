import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  EndpointChecker,
  type Prober,
  type RoundTiming,
} from '../../src/health/endpoint-checker.js';
import { HEALTHY_VERDICT } from '../../src/health/health-status.js';
import type { ProbeRound } from '../../src/health/probe-round.js';
import { FakeClock } from '../helpers/fake-clock.js';

const ROUND: ProbeRound = {
  startedAtWallMs: 0,
  finishedAtWallMs: 0,
  durationMs: 0,
  verdict: HEALTHY_VERDICT,
  checks: [],
};

/** A prober whose rounds end when the test says, recording when each one started. */
class ScriptedProber implements Prober {
  readonly starts: number[] = [];
  closed = false;
  private finishers: Array<() => void> = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly instant = true,
  ) {}

  run(): Promise<ProbeRound> {
    this.starts.push(this.clock.monotonicMs());
    if (this.instant) return Promise.resolve(ROUND);
    return new Promise((resolve) => this.finishers.push(() => resolve(ROUND)));
  }

  /** Ends the round in flight. */
  finish(): void {
    this.finishers.shift()?.();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function checker(
  prober: Prober,
  clock: FakeClock,
  timing: RoundTiming,
  random: () => number = () => 0,
  rounds: ProbeRound[] = [],
  errors: unknown[] = [],
) {
  return new EndpointChecker({
    prober,
    timing,
    clock,
    random,
    onRound: (round) => rounds.push(round),
    onError: (error) => errors.push(error),
  });
}

/** Advances `clock` one millisecond at a time for `ms`, letting each round settle. */
async function run(clock: FakeClock, ms: number, step = 1): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += step) {
    clock.advance(step);
    await flush();
  }
}

describe('EndpointChecker timing', () => {
  const jitters: Array<{ timing: RoundTiming; random: number; gap: number }> = [
    { timing: { intervalMs: 1000, jitterMs: 0, jitterPercent: 0 }, random: 0.99, gap: 1000 },
    { timing: { intervalMs: 1000, jitterMs: 0, jitterPercent: 10 }, random: 0.5, gap: 1050 },
    { timing: { intervalMs: 1000, jitterMs: 200, jitterPercent: 0 }, random: 0.999, gap: 1199 },
    { timing: { intervalMs: 1000, jitterMs: 200, jitterPercent: 10 }, random: 0.5, gap: 1150 },
  ];

  for (const { timing, random, gap } of jitters) {
    it(`waits ${gap} ms with ${JSON.stringify(timing)}, random ${random}`, async () => {
      const clock = new FakeClock();
      const prober = new ScriptedProber(clock);
      const loop = checker(prober, clock, timing, () => random);

      loop.start();
      clock.advance(0);
      await flush();
      await run(clock, 4 * gap, 1);
      await loop.stop();

      const gaps = prober.starts.slice(1).map((start, index) => start - prober.starts[index]!);
      assert.ok(gaps.length >= 2, `only ${prober.starts.length} rounds`);
      assert.deepEqual(new Set(gaps), new Set([gap]));
    });
  }

  it('keeps every gap within interval plus jitter with a real random source', async () => {
    const clock = new FakeClock();
    const prober = new ScriptedProber(clock);
    const timing = { intervalMs: 100, jitterMs: 20, jitterPercent: 10 };
    const loop = checker(prober, clock, timing, Math.random);

    loop.start();
    await run(clock, 10_000);
    await loop.stop();

    const gaps = prober.starts.slice(1).map((start, index) => start - prober.starts[index]!);
    assert.ok(gaps.length > 50);
    assert.ok(
      gaps.every((gap) => gap >= 100 && gap < 130),
      `gaps ${gaps.join(',')}`,
    );
    assert.ok(new Set(gaps).size > 5, 'the jitter varies');
    assert.ok(prober.starts[0]! < 30, 'the first round starts within the jitter spread');
  });

  it('never starts a round while one runs, and counts the interval from its end', async () => {
    const clock = new FakeClock();
    const prober = new ScriptedProber(clock, false);
    const loop = checker(prober, clock, { intervalMs: 100, jitterMs: 0, jitterPercent: 0 });

    loop.start();
    await run(clock, 1);
    await run(clock, 1000, 50);
    assert.deepEqual(prober.starts, [0], 'a slow round holds the next one back');
    assert.equal(loop.busy, true);

    prober.finish();
    await flush();
    await run(clock, 100, 10);
    assert.deepEqual(prober.starts, [0, 1101]);

    prober.finish();
    await loop.stop();
  });

  it('logs a prober that throws and keeps probing', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const prober: Prober = {
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('bug');
        return ROUND;
      },
      close: async () => undefined,
    };
    const rounds: ProbeRound[] = [];
    const errors: unknown[] = [];
    const timing = { intervalMs: 10, jitterMs: 0, jitterPercent: 0 };
    const loop = checker(prober, clock, timing, () => 0, rounds, errors);

    loop.start();
    await run(clock, 25);
    await loop.stop();

    assert.equal((errors[0] as Error).message, 'bug');
    assert.ok(rounds.length >= 2);
  });

  it('stops: waits for the round in flight, drops its result and closes the prober', async () => {
    const clock = new FakeClock();
    const prober = new ScriptedProber(clock, false);
    const rounds: ProbeRound[] = [];
    const loop = checker(
      prober,
      clock,
      { intervalMs: 10, jitterMs: 0, jitterPercent: 0 },
      () => 0,
      rounds,
    );

    loop.start();
    await run(clock, 1);
    const stopped = loop.stop();
    prober.finish();
    await stopped;
    await run(clock, 100, 10);

    assert.deepEqual(rounds, []);
    assert.equal(prober.closed, true);
    assert.equal(prober.starts.length, 1);
  });

  it('drops a round that ran under replaced settings and probes again at once', async () => {
    const clock = new FakeClock();
    const old = new ScriptedProber(clock, false);
    const replacement = new ScriptedProber(clock);
    const rounds: ProbeRound[] = [];
    const timing = { intervalMs: 1000, jitterMs: 0, jitterPercent: 0 };
    const loop = checker(old, clock, timing, () => 0, rounds);

    loop.start();
    await run(clock, 1);
    loop.update(replacement, timing);
    assert.equal(old.closed, false, 'the old prober is still in use');
    old.finish();
    await flush();
    await run(clock, 1);

    assert.equal(old.closed, true);
    assert.deepEqual(replacement.starts, [1]);
    assert.equal(rounds.length, 1, 'only the new prober’s round is delivered');
    await loop.stop();
  });
});
