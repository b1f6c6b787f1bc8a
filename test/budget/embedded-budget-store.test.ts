import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { BudgetFileLockedError } from '../../src/budget/embedded-budget-file.js';
import { EmbeddedBudgetStore } from '../../src/budget/embedded-budget-store.js';
import { ledgerOn, usage } from './ledger-fixture.js';

const run = promisify(execFile);
const folder = mkdtempSync(path.join(tmpdir(), 'tollgate-embedded-'));
after(() => rmSync(folder, { recursive: true, force: true }));

let files = 0;
const newFile = () => path.join(folder, `budgets-${files++}.db`);
const BUDGET = '  tenants:\n    acme: {period: daily, limit: 100000}\n';
const STORE_MODULE = new URL('../../src/budget/embedded-budget-store.js', import.meta.url).href;

describe('EmbeddedBudgetStore', () => {
  it('refuses a second process on the same file, pointing to the Redis store', async () => {
    const file = newFile();
    const store = new EmbeddedBudgetStore(file);

    const script =
      `const { EmbeddedBudgetStore } = await import(${JSON.stringify(STORE_MODULE)});` +
      `try { new EmbeddedBudgetStore(${JSON.stringify(file)}); console.log('opened'); }` +
      ` catch (error) { console.log(error.name + ': ' + error.message); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.match(stdout, /^BudgetFileLockedError: .*in use by another process/);
    assert.match(stdout, /backend: redis/);

    await store.close();
  });

  it('refuses a second store in the same process, and opens once the first is closed', async () => {
    const file = newFile();
    const first = new EmbeddedBudgetStore(file);
    assert.throws(() => new EmbeddedBudgetStore(file), BudgetFileLockedError);

    await first.close();
    const second = new EmbeddedBudgetStore(file);
    await second.close();
  });

  it('keeps what was settled and frees open reservations when the process stops', async () => {
    const file = newFile();
    const gate = ledgerOn(new EmbeddedBudgetStore(file), BUDGET);
    const settled = await gate.ledger.admit('acme', 500);
    const open = await gate.ledger.admit('acme', 700);
    assert.ok('reservation' in settled && 'reservation' in open);
    await settled.reservation.settle(usage(120, 30));
    await gate.ledger.close();

    const again = ledgerOn(new EmbeddedBudgetStore(file), BUDGET);
    again.clock.setWall(gate.clock.wallMs());
    const status = await again.ledger.status('acme');
    assert.ok(status.budgeted);
    assert.deepEqual([status.used, status.reserved], [150, 0]);
    await again.ledger.close();
  });

  it('commits settles made together in one write, each counted once', async () => {
    const file = newFile();
    const gate = ledgerOn(new EmbeddedBudgetStore(file), BUDGET);
    const admissions = await Promise.all(
      Array.from({ length: 50 }, () => gate.ledger.admit('acme', 10)),
    );
    await Promise.all(
      admissions.map((admission, i) => {
        assert.ok('reservation' in admission);
        return admission.reservation.settle(usage(i + 1, 0));
      }),
    );
    await gate.ledger.close();

    const again = ledgerOn(new EmbeddedBudgetStore(file), BUDGET);
    again.clock.setWall(gate.clock.wallMs());
    const status = await again.ledger.status('acme');
    assert.equal(status.budgeted && status.used, (50 * 51) / 2);
    await again.ledger.close();
  });

  it('fails each operation as a store error once closed', async () => {
    const store = new EmbeddedBudgetStore(newFile());
    await store.close();

    await assert.rejects(store.activeTenants(0), { name: 'BudgetStoreError' });
  });
});
