import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { heldPermits } from '../helpers/breaker-permits.js';
import { replyKind } from '../helpers/envoy-client.js';
import { requestBody, requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { gaugeProcess, type ProcessGauge } from '../helpers/leak-gauge.js';
import { sampleValue } from '../helpers/metrics.js';
import { runStorm, type StormTally } from '../helpers/stream-storm.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Streams in the storm; `npm run soak` runs many more. */
const STREAMS = Number(process.env.TOLLGATE_STORM_STREAMS ?? 10_000);
const WARM_UP = 1000;
const CONCURRENCY = 64;
/** Heap the storm may leave behind after full collections. */
const HEAP_BOUND_BYTES = 8 * 1024 * 1024;
/** Handles (sockets, timers) the storm may leave open beyond those before it. */
const HANDLE_BOUND = 8;
const TENANTS = ['acme', 'globex', 'tight'];
const UPSTREAMS = ['llm', 'llm-b', 'flaky'];

const config = (store: string) => `
circuit_breakers:
  upstreams:
    flaky:
      failure_threshold: 2
      success_threshold: 1
      timeout_seconds: 1
      half_open_max_requests: 2
budgets:
  enabled: true
  store: {backend: embedded, path: ${store}}
  tenants:
    default: {period: daily, limit: 1000000000}
    tight: {period: daily, limit: 5000}
`;

describe(`${STREAMS} ext_proc streams cut at random phases`, () => {
  let temp: TempDir;
  let gate: TestTollgate;
  let tally: StormTally;
  let before0: ProcessGauge;
  let after0: ProcessGauge;
  let metrics: string;
  let endedBefore: number;

  before(async () => {
    temp = TempDir.create('tollgate-storm-');
    gate = await startTestTollgate(config(temp.path('budgets.db')), { logLevel: 'warn' });
    const plan = { concurrency: CONCURRENCY, upstreams: UPSTREAMS, tenants: TENANTS };

    await runStorm(gate.tollgate.grpcPort, { ...plan, streams: WARM_UP, seed: 1 });
    await waitFor(async () => (await metric('tollgate_extproc_active_streams')) === 0, 5000);
    before0 = await gaugeProcess();
    endedBefore = streamsEnded((await gate.admin('/metrics')).text);

    tally = await runStorm(gate.tollgate.grpcPort, { ...plan, streams: STREAMS, seed: 9 });
    await waitFor(async () => (await metric('tollgate_extproc_active_streams')) === 0, 10_000);
    after0 = await gaugeProcess();
    metrics = (await gate.admin('/metrics')).text;

    process.stderr.write(
      `storm: ${STREAMS} streams in ${Math.round(tally.elapsedMs)} ms ` +
        `(${JSON.stringify(tally.cut)}, ${tally.resetWithReplyPending} reset with a reply ` +
        `pending, ${tally.answered} answered by tollgate, ${tally.goaways.length} graceful ` +
        `GOAWAYs, ${tally.refusedRetries} streams retried); heap ` +
        `${mib(before0.heapUsedBytes)} -> ${mib(after0.heapUsedBytes)} MiB, handles ` +
        `${before0.handles} -> ${after0.handles}\n`,
    );
  });
  after(async () => {
    await gate?.stop();
    temp?.remove();
  });

  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleValue((await gate.admin('/metrics')).text, name, labels) ?? 0;
  const sample = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(metrics, name, labels) ?? 0;

  it('moves the client to a new connection gracefully, never hitting the reset limit', () => {
    assert.ok(tally.goaways.length >= STREAMS / 1000, `${tally.goaways.length} GOAWAYs`);
    assert.deepEqual(new Set(tally.goaways), new Set([0]), 'every GOAWAY was NO_ERROR');
  });

  it('cuts streams at every phase, some while a reply is on its way', () => {
    for (const [point, count] of Object.entries(tally.cut)) {
      assert.ok(count > STREAMS / 10, `${point}: ${count}`);
    }
    assert.ok(tally.resetWithReplyPending > STREAMS / 10);
    assert.equal(tally.unexpected, 0);
  });

  it('ends every stream once, none failed or rejected as a protocol error', () => {
    const ended = streamsEnded(metrics) - endedBefore;
    const seen = STREAMS - tally.resetBeforeAnyReply;

    assert.ok(ended >= seen && ended <= STREAMS, `${ended} streams ended, ${seen} seen`);
    assert.equal(sample('tollgate_extproc_streams_total', { end: 'failed' }), 0);
    assert.equal(sample('tollgate_extproc_streams_total', { end: 'protocol_error' }), 0);
    assert.equal(sample('tollgate_extproc_active_streams'), 0);
    assert.deepEqual(
      gate.logs.lines.filter((line) => line.level === 'error'),
      [],
    );
  });

  it('decides every request once and settles every admitted one exactly once', () => {
    const decision = (name: string) => sample('tollgate_decisions_total', { decision: name });
    const settled = ['reported', 'partial', 'estimated', 'none'].reduce(
      (sum, source) => sum + sample('tollgate_usage_settlements_total', { source }),
      0,
    );
    const headers = sample('tollgate_extproc_messages_total', { phase: 'request_headers' });
    const refusedByBudget = decision('budget_exhausted') + decision('budget_unavailable');

    assert.equal(decision('forward') + decision('circuit_open'), headers);
    assert.equal(settled, decision('forward') - refusedByBudget);
    assert.ok(decision('circuit_open') > 0, 'the flaky breaker opened');
    assert.ok(decision('budget_exhausted') > 0, 'the tight budget ran out');
  });

  it('leaves no budget reservation open', async () => {
    for (const tenant of TENANTS) {
      const status = JSON.parse((await gate.admin(`/budgets/${tenant}`)).text);
      assert.equal(status.reserved, 0, `${tenant}: ${JSON.stringify(status)}`);
    }
  });

  it('leaves no breaker permit held and every half-open trial slot free', async () => {
    assert.equal(await heldPermits(gate), 0);
    for (const breaker of gate.tollgate.breakers.list()) {
      assert.equal(breaker.snapshot().trialsInFlight, 0, breaker.name);
    }

    // A slot still held would refuse one of these two trials.
    const flaky = gate.tollgate.breakers.get('flaky')!;
    await waitFor(() => flaky.state().kind !== 'open', 3000);
    if (flaky.state().kind === 'half_open') {
      const trials = await Promise.all([trial(gate), trial(gate)]);
      assert.deepEqual(trials, ['request_body', 'request_body']);
    }
  });

  it(`grows the heap by less than ${mib(HEAP_BOUND_BYTES)} MiB and leaks no handle`, () => {
    const grown = after0.heapUsedBytes - before0.heapUsedBytes;
    assert.ok(grown < HEAP_BOUND_BYTES, `heap grew by ${mib(grown)} MiB`);
    assert.ok(after0.handles <= before0.handles + HANDLE_BOUND, `${after0.handles} handles`);
  });
});

/** A request to the flaky upstream, through its body; resolves with the body reply's kind. */
async function trial(gate: TestTollgate): Promise<string | undefined> {
  const stream = gate.stream();
  const headers = requestHeaders({ attributes: { 'xds.cluster_name': 'flaky' } });
  const first = await stream.send(headers);
  if (replyKind(first) !== 'request_headers') return replyKind(first);

  const body = await stream.send(requestBody('{"model":"m","messages":[]}', true));
  await stream.send(responseHeaders(200, {}, true));
  await stream.halfClose();
  return replyKind(body);
}

/** Streams ended so far, however they ended. */
function streamsEnded(metrics: string): number {
  const ends = ['completed', 'half_closed', 'cancelled', 'protocol_error', 'failed'];
  return ends.reduce(
    (sum, end) => sum + (sampleValue(metrics, 'tollgate_extproc_streams_total', { end }) ?? 0),
    0,
  );
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
