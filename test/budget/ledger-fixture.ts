import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';

import { BudgetLedger } from '../../src/budget/budget-ledger.js';
import type { BudgetStore } from '../../src/budget/budget-store.js';
import { EmbeddedBudgetStore } from '../../src/budget/embedded-budget-store.js';
import { RedisBudgetStore } from '../../src/budget/redis-budget-store.js';
import { ZERO_USAGE, type TokenUsage } from '../../src/usage/token-usage.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { LogSink } from '../helpers/log-sink.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/tollgate-harness.js';

/**
 * A wall time in the future. Redis expires period keys at real wall times
 * (PEXPIREAT), so a fake clock set in the past would see its keys vanish.
 */
export const FUTURE = Date.UTC(2031, 0, 15, 12, 0, 0);

/** A store under test: how to open one, fresh or on the same data as before. */
export interface StoreKind {
  readonly name: string;
  /**
   * Whether several processes can open the same data at once. The embedded
   * file is locked by the one process that opens it; `again()` is then only
   * a restart, after the first store is closed.
   */
  readonly sharedByProcesses: boolean;
  /** A new, empty store; undefined when the kind cannot run here (no redis-server). */
  fresh(): Promise<BudgetStore | undefined>;
  /** Another store on the data of the last `fresh()` (a restart, or a second replica). */
  again(): Promise<BudgetStore>;
  cleanUp(): Promise<void>;
}

/** The embedded SQLite store, each `fresh()` in a new file. */
export function embeddedKind(): StoreKind {
  const folder = mkdtempSync(path.join(tmpdir(), 'tollgate-ledger-'));
  let file = '';
  let count = 0;
  return {
    name: 'embedded',
    sharedByProcesses: false,
    async fresh() {
      file = path.join(folder, `budgets-${count++}.db`);
      return new EmbeddedBudgetStore(file);
    },
    async again() {
      return new EmbeddedBudgetStore(file);
    },
    async cleanUp() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The Redis store on `server`, each `fresh()` under a new key prefix. */
export function redisKind(server: () => RedisServer | undefined): StoreKind {
  let prefix = '';
  let count = 0;
  const open = (url: string) =>
    new RedisBudgetStore({ url, keyPrefix: prefix, commandTimeoutMs: 500, connectTimeoutMs: 500 });
  return {
    name: 'redis',
    sharedByProcesses: true,
    async fresh() {
      const redis = server();
      if (!redis) return undefined;
      prefix = `test${count++}:${process.pid}:`;
      const store = open(redis.url);
      await store.connected();
      return store;
    },
    async again() {
      const store = open(server()!.url);
      await store.connected();
      return store;
    },
    async cleanUp() {},
  };
}

/** A ledger with a fake clock, its log in memory, on `store`. */
export interface TestLedger {
  readonly ledger: BudgetLedger;
  readonly store: BudgetStore;
  readonly clock: FakeClock;
  readonly logs: LogSink;
  readonly metrics: Registry;
}

/**
 * A ledger for the `budgets:` YAML body `budgetsYaml` (indented two spaces
 * under `budgets:`), on `store`, at wall time `startMs`.
 */
export function ledgerOn(
  store: BudgetStore,
  budgetsYaml: string,
  options: { clock?: FakeClock; metrics?: Registry } = {},
): TestLedger {
  const config = testConfig(`budgets:\n  enabled: true\n${budgetsYaml}`);
  const clock = options.clock ?? new FakeClock(FUTURE);
  const logs = new LogSink();
  const metrics = options.metrics ?? new Registry();
  const ledger = new BudgetLedger({
    config: config.budgets,
    store,
    clock,
    logger: logs.logger,
    metrics,
  });
  return { ledger, store, clock, logs, metrics };
}

/** Usage of `input` prompt and `output` generated tokens. */
export function usage(input: number, output: number, extra: Partial<TokenUsage> = {}): TokenUsage {
  return { ...ZERO_USAGE, input, output, total: input + output, ...extra };
}
