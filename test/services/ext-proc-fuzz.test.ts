import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { heldPermits } from '../helpers/breaker-permits.js';
import { fuzzStream } from '../helpers/ext-proc-arbitraries.js';
import { FUZZ_MAX_MESSAGE_BYTES, fuzzConfigYaml, playFuzzStream } from '../helpers/fuzz-driver.js';
import { metricValue } from '../helpers/metrics.js';
import { ResettableStreams } from '../helpers/resettable-stream.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Streams per run; `npm run soak` plays many more. */
const RUNS = Number(process.env.TOLLGATE_FUZZ_RUNS ?? 2000);
/** The smallest message cap tollgate allows, so over-cap messages are cheap to make. */

describe('ext_proc message sequences from fast-check', () => {
  let temp: TempDir;
  let gate: TestTollgate;
  let streams: ResettableStreams;

  before(async () => {
    temp = TempDir.create('tollgate-fuzz-');
    gate = await startTestTollgate(fuzzConfigYaml(temp.path('budgets.db')));
    streams = new ResettableStreams(gate.tollgate.grpcPort);
  });
  after(async () => {
    streams?.close();
    await gate?.stop();
    temp?.remove();
  });

  it(`answers ${RUNS} random streams with a reply or a precise status`, async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fuzzStream, async (fuzz) => {
        const outcome = await playFuzzStream(streams, fuzz, FUZZ_MAX_MESSAGE_BYTES);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    process.stderr.write(`fuzz: ${JSON.stringify(Object.fromEntries(outcomes))}\n`);

    await waitFor(async () => (await metricValue(gate, 'tollgate_extproc_active_streams')) === 0);
    const failed = await metricValue(gate, 'tollgate_extproc_streams_total', { end: 'failed' });
    assert.equal(failed ?? 0, 0);
    assert.deepEqual(
      gate.logs.lines.filter((line) => line.level === 'error'),
      [],
      'no stream failed inside tollgate',
    );
    assert.equal(await heldPermits(gate), 0);
    for (const tenant of ['acme', 'tight', 'other']) {
      const budget = JSON.parse((await gate.admin(`/budgets/${tenant}`)).text);
      assert.equal(budget.reserved, 0, tenant);
    }
  });
});
