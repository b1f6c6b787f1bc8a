import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { openBudgetStore } from '../../src/budget/open-budget-store.js';
import { LogSink } from '../helpers/log-sink.js';
import { testConfig } from '../helpers/tollgate-harness.js';

const folder = mkdtempSync(path.join(tmpdir(), 'tollgate-open-store-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function budgetsAt(file: string) {
  return testConfig(`budgets:\n  enabled: true\n  store: {backend: embedded, path: ${file}}\n`)
    .budgets;
}

describe('openBudgetStore (embedded)', () => {
  const cases = [
    { what: 'a folder', file: () => folder },
    {
      what: 'a file that is not SQLite',
      file: () => {
        const file = path.join(folder, 'notes.txt');
        writeFileSync(file, 'these are not budgets, just text long enough to be read as a header');
        return file;
      },
    },
  ];

  for (const { what, file } of cases) {
    it(`names the setting and the file when the store path is ${what}`, async () => {
      const target = file();

      await assert.rejects(openBudgetStore(budgetsAt(target), new LogSink().logger), (error) => {
        const message = (error as Error).message;
        assert.match(message, /^budgets\.store\.path: cannot open the budget store file /);
        assert.ok(message.includes(target), message);
        return true;
      });
    });
  }

  it('opens a new file in a folder it creates', async () => {
    const file = path.join(folder, 'new', 'budgets.db');

    const store = await openBudgetStore(budgetsAt(file), new LogSink().logger);

    await store.close();
  });
});
