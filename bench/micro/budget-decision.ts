import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pino from 'pino';
import { Registry } from 'prom-client';

import { BudgetLedger, type BudgetReservation } from '../../src/budget/budget-ledger.js';
import type { BudgetStore } from '../../src/budget/budget-store.js';
import { EmbeddedBudgetStore } from '../../src/budget/embedded-budget-store.js';
import { RedisBudgetStore } from '../../src/budget/redis-budget-store.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { ZERO_USAGE } from '../../src/usage/token-usage.js';
import { findRedisServer, RedisServer } from '../../test/helpers/redis-server.js';

/** The cost of one request's budget step on one store. */
export interface BudgetDecisionResult {
  readonly store: string;
  /** Mean wall time of one admit (check and reserve) awaited alone. */
  readonly admitMicros: number;
  /** Mean wall time of one settle awaited alone. */
  readonly settleMicros: number;
  /** Round trips per admit and per settle (Redis only: script calls from INFO commandstats). */
  readonly roundTripsPerAdmit?: number;
  readonly roundTripsPerSettle?: number;
}

const BUDGETS = `
budgets:
  enabled: true
  tenants:
    tenant-a: { period: daily, limit: 1000000000000, alert_thresholds: [0.9] }
`;

const USAGE = { ...ZERO_USAGE, input: 250, output: 40, total: 290 };

/**
 * Times admit and settle, one request at a time (the latency each adds to a
 * request), on the embedded store and, when `redis-server` is installed, on
 * a Redis the bench starts itself.
 */
export async function measureBudgetDecisions(requests = 2000): Promise<BudgetDecisionResult[]> {
  const results = [await measureEmbedded(requests)];

  const executable = findRedisServer();
  if (!executable) {
    console.log('budget decision (redis): skipped, redis-server is not installed');
    return results;
  }
  const redis = await RedisServer.start(executable);
  try {
    results.push(await measureRedis(redis, requests));
  } finally {
    await redis.stop();
  }
  return results;
}

async function measureEmbedded(requests: number): Promise<BudgetDecisionResult> {
  const folder = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-budget-'));
  try {
    const store = new EmbeddedBudgetStore(path.join(folder, 'budgets.db'));
    const timing = await timeLedger(store, requests);
    return { store: 'embedded', ...timing };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function measureRedis(redis: RedisServer, requests: number): Promise<BudgetDecisionResult> {
  const store = new RedisBudgetStore({
    url: redis.url,
    keyPrefix: 'bench:',
    commandTimeoutMs: 1000,
    connectTimeoutMs: 1000,
  });
  await store.connected();
  const counted = await timeLedger(store, requests, () => redis.scriptCalls());
  return { store: 'redis', ...counted };
}

async function timeLedger(
  store: BudgetStore,
  requests: number,
  commands?: () => Promise<number>,
): Promise<Omit<BudgetDecisionResult, 'store'>> {
  const parsed = parseConfigText(BUDGETS, 'bench.yaml');
  if (!parsed.ok) throw new Error(`bench budgets config invalid: ${JSON.stringify(parsed)}`);
  const ledger = new BudgetLedger({
    config: parsed.config.budgets,
    store,
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
  });

  try {
    await admitAndSettle(ledger, Math.min(200, requests)); // warm-up: JIT, script cache

    // Admits first, then settles, each counted on its own; a request's
    // budget step is one of each.
    const admitted = await counted(commands, async () => {
      const reservations: BudgetReservation[] = [];
      for (let i = 0; i < requests; i++) {
        const admission = await ledger.admit('tenant-a', 1200);
        if (!('reservation' in admission)) throw new Error(`bench budget: ${admission.result}`);
        reservations.push(admission.reservation);
      }
      return reservations;
    });
    const settled = await counted(commands, async () => {
      for (const reservation of admitted.value) await reservation.settle(USAGE);
    });

    return {
      admitMicros: (admitted.ms * 1000) / requests,
      settleMicros: (settled.ms * 1000) / requests,
      roundTripsPerAdmit: admitted.commands && admitted.commands / requests,
      roundTripsPerSettle: settled.commands && settled.commands / requests,
    };
  } finally {
    await ledger.close();
  }
}

/** Runs `step`, timing it and counting the store round trips it made. */
async function counted<T>(
  commands: (() => Promise<number>) | undefined,
  step: () => Promise<T>,
): Promise<{ value: T; ms: number; commands?: number }> {
  const before = await commands?.();
  const started = performance.now();
  const value = await step();
  const ms = performance.now() - started;
  const after = await commands?.();
  const sent = before !== undefined && after !== undefined ? after - before : undefined;
  return { value, ms, commands: sent };
}

async function admitAndSettle(ledger: BudgetLedger, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const admission = await ledger.admit('tenant-a', 1200);
    if ('reservation' in admission) await admission.reservation.settle(USAGE);
  }
}
