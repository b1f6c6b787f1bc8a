import type { Logger } from 'pino';

import type { BudgetLedger } from '../budget/budget-ledger.js';
import { isBudgetStoreError } from '../budget/budget-store-error.js';
import type { AdminReply, AdminRoute } from './admin-server.js';

/**
 * The budget endpoints: `GET /budgets` (every configured tenant and every
 * tenant seen this period), `GET /budgets/{tenant}`, and
 * `POST /budgets/{tenant}/reset` (usage of the current period back to zero).
 */
export function budgetRoutes(ledger: () => BudgetLedger | undefined, logger: Logger): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: /^\/budgets$/,
      handler: () => withLedger(ledger(), async (l) => ({ status: 200, body: await l.list() })),
    },
    {
      method: 'GET',
      path: /^\/budgets\/([^/]+)$/,
      handler: (match) =>
        withLedger(ledger(), async (l) => ({
          status: 200,
          body: await l.status(decodeURIComponent(match[1] ?? '')),
        })),
    },
    {
      method: 'POST',
      path: /^\/budgets\/([^/]+)\/reset$/,
      handler: (match) =>
        withLedger(ledger(), async (l) => {
          const tenant = decodeURIComponent(match[1] ?? '');
          await l.reset(tenant);
          logger.info({ tenant }, 'budget reset from the admin port');
          return { status: 200, body: await l.status(tenant) };
        }),
    },
  ];
}

async function withLedger(
  ledger: BudgetLedger | undefined,
  answer: (ledger: BudgetLedger) => Promise<AdminReply>,
): Promise<AdminReply> {
  if (!ledger) {
    return {
      status: 404,
      body: { error: 'budgets are off; set budgets.enabled: true to use them' },
    };
  }
  try {
    return await answer(ledger);
  } catch (error) {
    if (!isBudgetStoreError(error)) throw error;
    return { status: 503, body: { error: `${error.message}; try again when the store is back` } };
  }
}
