import { gaugeProcess } from '../../test/helpers/leak-gauge.js';
import { runStorm } from '../../test/helpers/stream-storm.js';
import { startTestTollgate } from '../../test/helpers/tollgate-harness.js';
import { waitFor } from '../../test/helpers/wait.js';
import { sampleValue } from '../../test/helpers/metrics.js';
import { TempDir } from '../../test/helpers/temp-dir.js';
import { checkNothingHeld } from './soak-checks.js';
import { mib, SoakReport } from './soak-report.js';

const TENANTS = ['acme', 'globex', 'tight'];

/** The cancel storm of test/e2e/cancel-storm.test.ts, round after round. */
export async function soakStorm(rounds: number, streamsPerRound: number): Promise<SoakReport> {
  const report = new SoakReport(`cancel storm: ${rounds} rounds of ${streamsPerRound} streams`);
  const temp = TempDir.create('tollgate-soak-storm-');
  const gate = await startTestTollgate(
    `circuit_breakers:
  upstreams:
    flaky:
      {failure_threshold: 2, success_threshold: 1, timeout_seconds: 1,
       half_open_max_requests: 2}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  tenants:
    default: {period: daily, limit: 1000000000}
    tight: {period: daily, limit: 5000}
`,
    { logLevel: 'warn' },
  );
  const plan = { concurrency: 64, upstreams: ['llm', 'llm-b', 'flaky'], tenants: TENANTS };
  const idle = async () =>
    waitFor(async () => {
      const text = (await gate.admin('/metrics')).text;
      return sampleValue(text, 'tollgate_extproc_active_streams') === 0;
    }, 10_000);

  try {
    await runStorm(gate.tollgate.grpcPort, { ...plan, streams: 2000, seed: 1 });
    await idle();
    const first = await gaugeProcess();
    const heaps: number[] = [];
    let streams = 0;
    let ms = 0;
    let goaways = 0;

    for (let round = 0; round < rounds; round++) {
      const tally = await runStorm(gate.tollgate.grpcPort, {
        ...plan,
        streams: streamsPerRound,
        seed: 100 + round,
      });
      await idle();
      heaps.push((await gaugeProcess()).heapUsedBytes);
      streams += streamsPerRound;
      ms += tally.elapsedMs;
      goaways += tally.goaways.length;
      report.expect(tally.unexpected === 0, `round ${round}: ${tally.unexpected} unexpected`);
      report.expect(
        tally.goaways.every((code) => code === 0),
        `round ${round}: a GOAWAY with an error`,
      );
    }

    const last = await gaugeProcess();
    const grown = last.heapUsedBytes - first.heapUsedBytes;
    report.note('streams', streams);
    report.note('streams per second', Math.round((streams / ms) * 1000));
    report.note('graceful GOAWAYs', goaways);
    report.note('heap after warm-up', mib(first.heapUsedBytes));
    report.note('heap after each round', heaps.map((heap) => mib(heap)).join(', '));
    report.note('heap growth', mib(grown));
    report.note('handles before, after', `${first.handles}, ${last.handles}`);
    report.expect(grown < 16 * 1024 * 1024, `heap grew by ${mib(grown)}`);
    report.expect(last.handles <= first.handles + 8, `${last.handles} handles`);
    await checkNothingHeld(gate, TENANTS, report);
  } finally {
    await gate.stop();
    temp.remove();
  }
  return report;
}
