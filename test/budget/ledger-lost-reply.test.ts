import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { BudgetStore, ReserveOutcome } from '../../src/budget/budget-store.js';
import { BudgetStoreError } from '../../src/budget/budget-store-error.js';
import { GatedStore } from '../helpers/gated-store.js';
import { waitFor } from '../helpers/wait.js';
import { embeddedKind, ledgerOn, usage } from './ledger-fixture.js';

const kind = embeddedKind();
after(() => kind.cleanUp());

const BUDGET = '  tenants:\n    acme: {period: daily, limit: 1000}\n';

/**
 * A store that can lose answers. `reserveThenFail`: a reserve runs and then
 * fails, as a Redis command does when the client's command timeout passes
 * while the server is stalled, or the connection drops after the command
 * was read. `down`: every operation fails without running.
 */
class LossyStore extends GatedStore {
  reserveThenFail = false;
  down = false;

  override async reserve(...args: Parameters<BudgetStore['reserve']>): Promise<ReserveOutcome> {
    this.failIfDown('reserve');
    const outcome = await super.reserve(...args);
    if (this.reserveThenFail) this.fail('reserve');
    return outcome;
  }

  override async settle(...args: Parameters<BudgetStore['settle']>) {
    this.failIfDown('settle');
    return super.settle(...args);
  }

  override async release(...args: Parameters<BudgetStore['release']>) {
    this.failIfDown('release');
    return super.release(...args);
  }

  override async usage(...args: Parameters<BudgetStore['usage']>) {
    this.failIfDown('usage');
    return super.usage(...args);
  }

  private failIfDown(operation: string): void {
    if (this.down) this.fail(operation);
  }

  private fail(operation: string): never {
    throw new BudgetStoreError(operation, this.backend, new Error('Connection is closed.'));
  }
}

async function rig() {
  const store = new LossyStore((await kind.fresh()) as BudgetStore);
  const { ledger } = ledgerOn(store, BUDGET);
  const reserved = async () => ((await ledger.status('acme')) as { reserved: number }).reserved;
  return { store, ledger, reserved };
}

describe('BudgetLedger when the store loses an answer', () => {
  it('drops a reservation whose reserve ran but failed, at once', async () => {
    const { store, ledger, reserved } = await rig();
    store.reserveThenFail = true;

    const admission = await ledger.admit('acme', 100);

    assert.equal(admission.result, 'unavailable');
    await waitFor(() => store.ran.get('release') === 1);
    assert.equal(await reserved(), 0, 'nothing held until the reservation would expire');
  });

  it('drops it when the store answers again, if the connection was down meanwhile', async () => {
    const { store, ledger, reserved } = await rig();
    store.reserveThenFail = true;
    store.down = false;

    const admitting = ledger.admit('acme', 100);
    store.down = true;
    assert.equal((await admitting).result, 'unavailable');
    store.down = false;
    store.reserveThenFail = false;

    assert.equal(await reserved(), 100, 'held while the store was down');
    await waitFor(async () => (await reserved()) === 0);
  });

  it('drops the reservation of a settle that failed once the store answers again', async () => {
    const { store, ledger, reserved } = await rig();
    const admission = await ledger.admit('acme', 100);
    assert.ok('reservation' in admission);

    store.down = true;
    await assert.rejects(admission.reservation.settle(usage(40, 10)));
    store.down = false;

    assert.equal(await reserved(), 100);
    await waitFor(async () => (await reserved()) === 0);
    const status = (await ledger.status('acme')) as { used: number };
    assert.equal(status.used, 0, 'the lost settle is not counted');
  });

  it('drops nothing for a dry-run check', async () => {
    const { store, ledger } = await rig();
    store.reserveThenFail = true;

    assert.equal((await ledger.check('acme', 100)).result, 'unavailable');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.ran.get('release'), undefined);
  });
});
