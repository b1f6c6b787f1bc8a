import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { BudgetStore, ReserveOutcome } from '../../src/budget/budget-store.js';
import { BudgetStoreError } from '../../src/budget/budget-store-error.js';
import { GatedStore } from '../helpers/gated-store.js';
import { waitFor } from '../helpers/wait.js';
import { embeddedKind, ledgerOn } from './ledger-fixture.js';

const kind = embeddedKind();
after(() => kind.cleanUp());

/**
 * A store whose reserve runs and then fails, as a Redis command does when the
 * client's command timeout passes while the server is stalled: the server
 * still runs it once it can, but the client never learns the result.
 */
class LostReplyStore extends GatedStore {
  override async reserve(...args: Parameters<BudgetStore['reserve']>): Promise<ReserveOutcome> {
    await super.reserve(...args);
    throw new BudgetStoreError('reserve', this.backend, new Error('Command timed out'));
  }
}

describe('BudgetLedger when a reserve fails after the store ran it', () => {
  it('answers unavailable and asks the store to drop the reservation', async () => {
    const store = new LostReplyStore((await kind.fresh()) as BudgetStore);
    const { ledger } = ledgerOn(store, '  tenants:\n    acme: {period: daily, limit: 1000}\n');

    const admission = await ledger.admit('acme', 100);

    assert.equal(admission.result, 'unavailable');
    await waitFor(() => store.ran.get('release') === 1);
    const status = (await ledger.status('acme')) as { reserved: number };
    assert.equal(status.reserved, 0, 'nothing held until the reservation would expire');
  });

  it('drops nothing for a dry-run check', async () => {
    const store = new LostReplyStore((await kind.fresh()) as BudgetStore);
    const { ledger } = ledgerOn(store, '  tenants:\n    acme: {period: daily, limit: 1000}\n');

    assert.equal((await ledger.check('acme', 100)).result, 'unavailable');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.ran.get('release'), undefined);
  });
});
