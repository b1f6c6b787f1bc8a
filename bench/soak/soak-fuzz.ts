import fc from 'fast-check';

import { heldPermits } from '../../test/helpers/breaker-permits.js';
import { fuzzStream } from '../../test/helpers/ext-proc-arbitraries.js';
import {
  FUZZ_MAX_MESSAGE_BYTES,
  fuzzConfigYaml,
  playFuzzStream,
} from '../../test/helpers/fuzz-driver.js';
import { gaugeProcess } from '../../test/helpers/leak-gauge.js';
import { ResettableStreams } from '../../test/helpers/resettable-stream.js';
import { startTestTollgate } from '../../test/helpers/tollgate-harness.js';
import { TempDir } from '../../test/helpers/temp-dir.js';
import { mib, SoakReport } from './soak-report.js';

/** The fuzz test of test/services/ext-proc-fuzz.test.ts, with many more streams. */
export async function soakFuzz(runs: number, seed: number): Promise<SoakReport> {
  const report = new SoakReport(`ext_proc fuzz: ${runs} streams, seed ${seed}`);
  const temp = TempDir.create('tollgate-soak-fuzz-');
  const gate = await startTestTollgate(fuzzConfigYaml(temp.path('budgets.db')), {
    logLevel: 'error',
  });
  const streams = new ResettableStreams(gate.tollgate.grpcPort);
  const outcomes = new Map<string, number>();

  try {
    const before = await gaugeProcess();
    const started = performance.now();
    const details = await fc.check(
      fc.asyncProperty(fuzzStream, async (fuzz) => {
        const outcome = await playFuzzStream(streams, fuzz, FUZZ_MAX_MESSAGE_BYTES);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    const after = await gaugeProcess();

    report.note('seconds', ((performance.now() - started) / 1000).toFixed(1));
    report.note('outcomes', JSON.stringify(Object.fromEntries(outcomes)));
    report.note('heap before, after', `${mib(before.heapUsedBytes)}, ${mib(after.heapUsedBytes)}`);
    report.expect(
      !details.failed,
      `counterexample ${JSON.stringify(details.counterexample)?.slice(0, 500)}: ` +
        `${String(details.errorInstance ?? '').slice(0, 300)}`,
    );
    report.expect((await heldPermits(gate)) === 0, 'breaker permits held');
    const errors = gate.logs.lines.filter((line) => line.level === 'error');
    report.expect(errors.length === 0, `${errors.length} error log lines`);
  } finally {
    streams.close();
    await gate.stop();
    temp.remove();
  }
  return report;
}
