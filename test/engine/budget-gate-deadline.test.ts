import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { Counter } from 'prom-client';

import type { BudgetStore } from '../../src/budget/budget-store.js';
import { BudgetGate, checkBudget, type BudgetGateDeps } from '../../src/engine/budget-gate.js';
import { DecisionDeadline } from '../../src/engine/decision-deadline.js';
import { embeddedKind, ledgerOn, usage, type TestLedger } from '../budget/ledger-fixture.js';
import { GatedStore } from '../helpers/gated-store.js';
import { sampleValue } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';

const DEADLINE_MS = 150;
const BUDGET = '  tenants:\n    acme: {period: daily, limit: 100000}\n';

const kind = embeddedKind();
after(() => kind.cleanUp());

interface Rig extends TestLedger {
  readonly store: GatedStore;
  readonly deps: BudgetGateDeps;
  gate(): BudgetGate;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  reserved(): Promise<number>;
  used(): Promise<number>;
}

async function rig(failOpen: boolean): Promise<Rig> {
  const store = new GatedStore((await kind.fresh()) as BudgetStore);
  const test = ledgerOn(store, BUDGET);
  const deps: BudgetGateDeps = {
    ledger: test.ledger,
    logger: test.logs.logger,
    remainingHeader: 'x-remaining',
    failOpen,
    failOpenAdmits: new Counter({ name: 'fail_open', help: 'h', registers: [test.metrics] }),
    deadline: new DecisionDeadline({
      ms: DEADLINE_MS,
      clock: test.clock,
      logger: test.logs.logger,
      failOpen,
      exceeded: new Counter({
        name: 'deadline_exceeded',
        help: 'h',
        labelNames: ['operation'],
        registers: [test.metrics],
      }),
    }),
  };
  const status = () => test.ledger.status('acme') as Promise<{ reserved: number; used: number }>;
  return {
    ...test,
    store,
    deps,
    gate: () => new BudgetGate(deps, test.ledger.account('acme')),
    metric: async (name, labels) => sampleValue(await test.metrics.metrics(), name, labels) ?? 0,
    reserved: async () => (await status()).reserved,
    used: async () => (await status()).used,
  };
}

/** Whether `promise` has settled, after the microtasks queued so far ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('BudgetGate and the decision deadline', () => {
  it('decides with the store and holds the reservation when the store is in time', async () => {
    const test = await rig(true);

    const verdict = await test.gate().decide(100);

    assert.equal(verdict.kind, 'pass');
    assert.deepEqual(verdict.kind === 'pass' && verdict.headers, [['x-remaining', '99900']]);
    assert.equal(await test.reserved(), 100);
    assert.equal(await test.metric('deadline_exceeded', { operation: 'reserve' }), 0);
  });

  const modes = [
    { mode: 'fail_open', failOpen: true, kind: 'pass', admits: 1 },
    { mode: 'fail_closed', failOpen: false, kind: 'answer', admits: 0 },
  ] as const;
  for (const mode of modes) {
    it(`answers by ${mode.mode} at the deadline; releases the late reservation`, async () => {
      const test = await rig(mode.failOpen);
      test.store.freeze();

      const deciding = test.gate().decide(100);
      test.clock.advance(DEADLINE_MS - 1);
      const early = await isSettled(deciding);
      test.clock.advance(1);
      const verdict = await deciding;

      assert.equal(early, false, 'no answer before the deadline');
      assert.equal(verdict.kind, mode.kind);
      if (verdict.kind === 'pass') assert.deepEqual(verdict.headers, []);
      if (verdict.kind === 'answer') assert.equal(verdict.answer.status, 503);
      assert.equal(await test.metric('fail_open'), mode.admits);
      assert.equal(await test.metric('deadline_exceeded', { operation: 'reserve' }), 1);

      test.store.thaw();
      await waitFor(() => test.store.ran.get('release') === 1);
      assert.equal(await test.reserved(), 0, 'the late reservation was given back');
      assert.equal(await test.used(), 0);
    });
  }

  it('charges nothing when the late decision (no request body) misses the deadline', async () => {
    const test = await rig(true);
    const gate = test.gate();
    test.store.freeze();

    const deciding = gate.decideLate(100);
    test.clock.advance(DEADLINE_MS);
    await deciding;
    await gate.settle(usage(10, 5));
    test.store.thaw();

    await waitFor(() => test.store.ran.get('release') === 1);
    assert.equal(await test.reserved(), 0);
    assert.equal(await test.used(), 0);
  });

  it('stops waiting for a slow settle at the deadline and lets it finish behind', async () => {
    const test = await rig(true);
    const gate = test.gate();
    await gate.decide(100);
    test.store.freeze();

    const settling = gate.settle(usage(30, 12));
    test.clock.advance(DEADLINE_MS);
    await settling;
    assert.equal(await test.metric('deadline_exceeded', { operation: 'settle' }), 1);
    test.store.thaw();

    await waitFor(() => test.store.ran.get('settle') === 1);
    assert.equal(await test.used(), 42);
    assert.equal(await test.reserved(), 0);
  });

  for (const mode of modes) {
    it(`answers ext_authz by ${mode.mode} when the store misses the deadline`, async () => {
      const test = await rig(mode.failOpen);
      test.store.freeze();

      const checking = checkBudget(test.deps, test.ledger.account('acme'), 100);
      test.clock.advance(DEADLINE_MS);
      const verdict = await checking;
      test.store.thaw();

      assert.equal(verdict.kind, mode.kind);
      assert.equal(await test.metric('deadline_exceeded', { operation: 'check' }), 1);
      assert.equal(await test.reserved(), 0, 'a check reserves nothing');
    });
  }

  it('logs one warning for many missed deadlines, and one line when in time again', async () => {
    const test = await rig(true);
    test.store.freeze();

    const late = Array.from({ length: 20 }, () => test.gate().decide(10));
    test.clock.advance(DEADLINE_MS);
    await Promise.all(late);
    test.store.thaw();
    await test.gate().decide(10);
    await test.gate().decide(10);

    const warnings = test.logs.find('did not answer within server.decision_deadline_ms');
    const recovered = test.logs.find('answers within server.decision_deadline_ms again');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.level, 'warn');
    assert.equal(recovered.length, 1);
    assert.equal(await test.metric('deadline_exceeded', { operation: 'reserve' }), 20);
    await waitFor(() => test.store.ran.get('release') === 20);
    assert.equal(await test.reserved(), 20, 'only the two in time hold tokens');
  });
});
