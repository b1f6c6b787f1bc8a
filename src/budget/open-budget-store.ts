import type { Logger } from 'pino';

import type { BudgetStore } from './budget-store.js';
import type { BudgetsConfig } from './budgets-config.js';
import { BudgetFileLockedError } from './embedded-budget-file.js';
import { EmbeddedBudgetStore } from './embedded-budget-store.js';
import { RedisBudgetStore } from './redis-budget-store.js';

/**
 * Opens the configured budget store. The embedded file is opened at once and
 * a problem with it (an unwritable folder) throws. Redis is given up to its
 * connect timeout to answer; if it does not, the store is returned anyway,
 * keeps reconnecting, and requests follow `on_store_error` meanwhile.
 */
export async function openBudgetStore(config: BudgetsConfig, logger: Logger): Promise<BudgetStore> {
  const store = config.store;
  if (store.backend === 'embedded') {
    logger.info({ file: store.path }, 'budget store: embedded SQLite file');
    return openEmbedded(store.path);
  }

  const redis = new RedisBudgetStore(store);
  if (await redis.connected()) {
    logger.info({ store: 'redis' }, 'budget store: redis connected');
  } else {
    logger.warn(
      { store: 'redis' },
      'budget store: redis did not answer at start; budget decisions follow ' +
        'budgets.on_store_error until it does (reconnecting in the background)',
    );
  }
  return redis;
}

// A file that cannot be opened is a start-up misconfiguration: the message
// names the setting and the file, not only SQLite's or the OS's words.
function openEmbedded(file: string): EmbeddedBudgetStore {
  try {
    return new EmbeddedBudgetStore(file);
  } catch (error) {
    if (error instanceof BudgetFileLockedError) throw error;

    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `budgets.store.path: cannot open the budget store file ${file} (${reason}). It must be ` +
        'a SQLite file tollgate made, or a new file in a folder that exists or can be ' +
        "created and that tollgate's user can write; relative paths start from the config " +
        "file's folder",
      { cause: error },
    );
  }
}
