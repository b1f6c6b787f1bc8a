import type { Logger } from 'pino';

import type { BudgetStore } from './budget-store.js';
import type { BudgetsConfig } from './budgets-config.js';
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
    return new EmbeddedBudgetStore(store.path);
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
