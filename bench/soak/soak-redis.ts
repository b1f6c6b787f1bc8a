import { setTimeout as sleep } from 'node:timers/promises';

import { runBudgetLoad, TOKENS_PER_EXCHANGE } from '../../test/helpers/budget-load.js';
import { metricValue } from '../../test/helpers/metrics.js';
import { startRedisServer } from '../../test/helpers/redis-server.js';
import { startTestTollgate, type TestTollgate } from '../../test/helpers/tollgate-harness.js';
import { TempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait.js';
import { SoakReport } from './soak-report.js';

const WORKERS = 16;

/**
 * Budget load on Redis while Redis is frozen (SIGSTOP) for a second, again
 * and again, then stopped and started: the fail mode holds, nothing crashes,
 * nothing is counted twice, no reservation is left, and each recovery is timed.
 */
export async function soakRedis(cycles: number): Promise<SoakReport> {
  const report = new SoakReport(`Redis frozen ${cycles} times, then restarted, under load`);
  // Append-only with fsync on every write: the restart keeps what was counted.
  const temp = TempDir.create('tollgate-soak-redis-');
  const redis = await startRedisServer({ persistDir: temp.root });
  if (!redis) {
    report.note('skipped', 'redis-server is not installed');
    temp.remove();
    return report;
  }

  const gate = await startTestTollgate(
    `budgets:
  enabled: true
  on_store_error: fail_open
  store: {backend: redis, url: ${redis.url}, key_prefix: "soak:"}
  tenants:
    load: {period: monthly, limit: 1000000000}
`,
    { logLevel: 'info' },
  );
  try {
    const load = runBudgetLoad(gate.tollgate.grpcPort, 'load', WORKERS);
    const frozen: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      await sleep(1500);
      redis.pause();
      await sleep(1000);
      redis.resume();
      frozen.push(await recoveryMs(gate));
    }
    await sleep(1000);
    await redis.stop();
    await sleep(1000);
    await redis.restart();
    const restarted = await recoveryMs(gate);
    await sleep(1000);
    const tally = await load.stop();

    await waitFor(async () => (await budget(gate)).reserved === 0, 5000).catch(() => undefined);
    const { used, reserved } = await budget(gate);
    const failOpen = (await metricValue(gate, 'tollgate_budget_fail_open_total')) ?? 0;
    // A settle that failed may have run (a timed-out command) or not (a cut connection).
    const settleErrors =
      (await metricValue(gate, 'tollgate_budget_store_errors_total', { operation: 'settle' })) ?? 0;
    const late = (operation: string) =>
      metricValue(gate, 'tollgate_decision_deadline_exceeded_total', { operation });
    const outages = gate.logs.find('budget store is unavailable').length;
    const slow = gate.logs.find('did not answer within server.decision_deadline_ms').length;
    const unsettled = gate.logs.find('could not be settled').length;

    report.note('exchanges completed, failed', `${tally.completed}, ${tally.failed}`);
    report.note('admitted unchecked (fail_open), settles failed', `${failOpen}, ${settleErrors}`);
    report.note(
      'deadline misses reserve, settle',
      `${await late('reserve')}, ${await late('settle')}`,
    );
    report.note('recovery after each freeze', frozen.map((ms) => `${ms} ms`).join(', '));
    report.note('recovery after a restart', `${restarted} ms`);
    report.note('log lines: outage, slow store, unsettled', `${outages}, ${slow}, ${unsettled}`);
    report.note('tokens used, reserved', `${used}, ${reserved}`);

    report.expect(tally.failed === 0, `${tally.failed} exchanges failed`);
    report.expect(tally.answered === 0, `${tally.answered} answered by tollgate (fail_open)`);
    report.expect(reserved === 0, `${reserved} tokens still reserved`);
    const most = tally.completed * TOKENS_PER_EXCHANGE;
    const least = (tally.completed - failOpen - settleErrors) * TOKENS_PER_EXCHANGE;
    report.note('exchanges not counted', (most - used) / TOKENS_PER_EXCHANGE);
    report.expect(used <= most && used >= least, `used ${used} outside [${least}, ${most}]`);
    report.expect(outages <= cycles + 1, `${outages} outage lines for ${cycles + 1} outages`);
    report.expect(slow <= cycles + 1, `${slow} slow-store lines for ${cycles + 1} outages`);
  } finally {
    redis.resume();
    await gate.stop();
    await redis.stop();
    temp.remove();
  }
  return report;
}

async function budget(gate: TestTollgate): Promise<{ used: number; reserved: number }> {
  return JSON.parse((await gate.admin('/budgets/load')).text) as { used: number; reserved: number };
}

/** Milliseconds until the store admits a request again (a reservation is made). */
async function recoveryMs(gate: TestTollgate): Promise<number> {
  const allowed = () => metricValue(gate, 'tollgate_budget_decisions_total', { result: 'allowed' });
  const started = performance.now();
  const before = (await allowed()) ?? 0;
  await waitFor(async () => ((await allowed()) ?? 0) > before, 10_000);
  return Math.round(performance.now() - started);
}
