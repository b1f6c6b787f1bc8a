import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';

import { Registry } from 'prom-client';

import { BreakerSet } from '../../src/breaker/breaker-set.js';
import { BudgetLedger } from '../../src/budget/budget-ledger.js';
import type { BudgetStore } from '../../src/budget/budget-store.js';
import { EmbeddedBudgetStore } from '../../src/budget/embedded-budget-store.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { envoyService } from '../../src/services/envoy-protos.js';
import { ExtProcService } from '../../src/services/ext-proc/ext-proc-service.js';
import { EXT_PROC_SERVICE } from '../../src/services/grpc-server.js';
import type {
  ProcessingRequest,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';
import { requestBody, requestHeaders } from '../helpers/envoy-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { LogSink } from '../helpers/log-sink.js';
import { TempDir } from '../helpers/temp-dir.js';
import { testConfig } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A grpc-js server call as the service sees it, driven by hand: the test
 * decides whether the client's reset or tollgate's status comes first, which
 * over a real connection depends on timing.
 */
class FakeCall extends EventEmitter {
  cancelled = false;
  writableEnded = false;
  ends = 0;
  readonly written: ProcessingResponse[] = [];

  write(response: ProcessingResponse): boolean {
    this.written.push(response);
    return true;
  }

  end(): this {
    this.ends += 1;
    this.writableEnded = true;
    return this;
  }

  /** grpc-js's last event: the client reset the stream, or tollgate's status went out. */
  over(): void {
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
  }
}

/** A budget store whose reservations wait until the test lets them through. */
function gatedStore(inner: BudgetStore): BudgetStore & { hold(): void; release(): void } {
  let gate: Promise<void> = Promise.resolve();
  let open = () => undefined as void;
  return Object.assign(Object.create(inner) as BudgetStore, {
    async reserve(...args: Parameters<BudgetStore['reserve']>) {
      await gate;
      return inner.reserve(...args);
    },
    hold() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      open();
    },
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const TENANT = { headers: { 'x-tenant-id': 'ends' }, attributes: { 'xds.cluster_name': 'llm' } };

describe('how an ext_proc stream end is counted', () => {
  let temp: TempDir;
  let store: ReturnType<typeof gatedStore>;
  let metrics: Registry;
  let breakers: BreakerSet;
  let ledger: BudgetLedger;
  let open: (call: FakeCall) => void;

  before(() => {
    temp = TempDir.create('tollgate-stream-end-');
  });
  after(() => temp.remove());

  let stores = 0;

  beforeEach(() => {
    const file = temp.path(`budgets-${++stores}.db`);
    const config = testConfig(`
budgets:
  enabled: true
  store: {backend: embedded, path: ${file}}
  decide_at: body
  tenants:
    ends: {period: daily, limit: 100000}
`);
    const clock = new FakeClock();
    const logger = new LogSink().logger;
    metrics = new Registry();
    breakers = new BreakerSet({
      defaults: config.breakers.defaults,
      perUpstream: config.breakers.upstreams,
      maxDynamic: config.breakers.maxDynamic,
      clock,
    });
    store = gatedStore(new EmbeddedBudgetStore(file));
    ledger = new BudgetLedger({ config: config.budgets, store, logger, metrics, clock });
    const engine = new DecisionEngine(config, breakers, metrics, { ledger, logger });
    const service = new ExtProcService({ engine: () => engine, logger, metrics });
    const handlers = service.implementation() as unknown as { Process: (call: FakeCall) => void };
    open = (call) => handlers.Process(call);
  });

  async function ends(): Promise<Record<string, number>> {
    const counter = metrics.getSingleMetric('tollgate_extproc_streams_total')!;
    const { values } = await counter.get();
    return Object.fromEntries(values.map(({ labels, value }) => [labels.end, value]));
  }

  function heldPermits(): number {
    return breakers.list().reduce((held, breaker) => {
      const { admitted, successes, failures, released } = breaker.snapshot().totals;
      return held + admitted - successes - failures - released;
    }, 0);
  }

  // Through the server's own decoder, which names the oneof member that is set.
  const method = ExtProcService.definition(envoyService(EXT_PROC_SERVICE)).Process!;
  function send(call: FakeCall, message: ProcessingRequest): void {
    call.emit('data', method.requestDeserialize(method.requestSerialize(message)));
  }

  it('counts a half-close tollgate answered before the call was over as half_closed', async () => {
    const call = new FakeCall();
    open(call);
    send(call, requestHeaders(TENANT));

    call.emit('end');
    await waitFor(() => call.ends === 1);
    call.over();

    assert.deepEqual(await ends(), { half_closed: 1 });
    await waitFor(() => heldPermits() === 0);
  });

  it('counts a reset that comes with the half-close as cancelled, sending no status', async () => {
    const call = new FakeCall();
    open(call);
    send(call, requestHeaders(TENANT));

    call.emit('end');
    call.over();
    await turn();
    await turn();

    assert.deepEqual(await ends(), { cancelled: 1 });
    assert.equal(call.ends, 0);
    await waitFor(() => heldPermits() === 0);
  });

  it('counts a reset after the half-close but before a pending reply as cancelled', async () => {
    const call = new FakeCall();
    open(call);
    send(call, requestHeaders(TENANT));
    store.hold();
    send(call, requestBody('{"model":"gpt-4o-mini","messages":[]}', true));

    call.emit('end');
    // Long after the half-close, while the budget decision is still pending.
    for (let i = 0; i < 5; i++) await turn();
    call.over();
    store.release();
    await waitFor(() => heldPermits() === 0);
    await turn();

    assert.deepEqual(await ends(), { cancelled: 1 });
    assert.equal(call.ends, 0, 'no status for a call that is over');
    assert.equal(call.written.length, 1, 'the late budget reply is not written');
    assert.equal(((await ledger.status('ends')) as { reserved: number }).reserved, 0);
  });

  it('counts a reset without a half-close as cancelled', async () => {
    const call = new FakeCall();
    open(call);
    send(call, requestHeaders(TENANT));

    call.over();

    assert.deepEqual(await ends(), { cancelled: 1 });
    await waitFor(() => heldPermits() === 0);
  });
});
