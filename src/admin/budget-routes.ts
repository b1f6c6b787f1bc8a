import type { Logger } from 'pino';

import type { BudgetLedger } from '../budget/budget-ledger.js';
import { isBudgetStoreError } from '../budget/budget-store-error.js';
import type { AdminReply, AdminRoute } from './admin-server.js';

/**
 * The budget endpoints: `GET /budgets` (every budget written for a tenant and
 * every counter used this period), `GET /budgets/{key}`, and
 * `POST /budgets/{key}/reset` (usage of the current period back to zero). A
 * key is a tenant id for global budgets and `NAMESPACE:TENANT` or
 * `NAMESPACE:SERVICE:TENANT` for scoped ones (a `:` in the tenant id itself
 * is written `%3A`, so `%253A` in the URL).
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
        withKey(match, ledger(), async (l, key) => ({ status: 200, body: await l.status(key) })),
    },
    {
      method: 'POST',
      path: /^\/budgets\/([^/]+)\/reset$/,
      handler: (match, req) =>
        withKey(match, ledger(), async (l, key) => {
          const before = await l.status(key);
          if (!before.budgeted) {
            return {
              status: 404,
              body: { error: `no budget applies to ${key}; nothing to reset` },
            };
          }

          await l.reset(key);
          logger.info(
            { budget: key, remote: req.socket.remoteAddress },
            'budget reset from the admin port',
          );
          return { status: 200, body: await l.status(key) };
        }),
    },
  ];
}

/** A budget key as the admin port accepts it: visible ASCII, not longer than any real key. */
const BUDGET_KEY = /^[\x21-\x7e]{1,400}$/;

// Keys are checked before they reach the store or a log line: nothing else
// a client sends on this port is written anywhere.
async function withKey(
  match: RegExpExecArray,
  ledger: BudgetLedger | undefined,
  answer: (ledger: BudgetLedger, key: string) => Promise<AdminReply>,
): Promise<AdminReply> {
  const key = decodeURIComponent(match[1] ?? '');
  if (!BUDGET_KEY.test(key)) {
    return {
      status: 400,
      body: {
        error:
          'a budget key is a tenant id (visible ASCII), optionally after NAMESPACE: or ' +
          'NAMESPACE:SERVICE: for a scoped budget',
      },
    };
  }
  return withLedger(ledger, (l) => answer(l, key));
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
