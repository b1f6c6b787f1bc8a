import { Redis } from 'ioredis';

import type {
  BudgetStore,
  CeilingRule,
  PeriodKey,
  PeriodUsage,
  ReserveOutcome,
  ReserveRequest,
  SettleOutcome,
  SettleRequest,
} from './budget-store.js';
import { BudgetStoreError } from './budget-store-error.js';
import {
  RELEASE_SCRIPT,
  RESERVE_SCRIPT,
  RESET_SCRIPT,
  SETTLE_SCRIPT,
  USAGE_SCRIPT,
} from './redis-budget-scripts.js';

/** Connection settings of the Redis store. */
export interface RedisStoreSettings {
  readonly url: string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

type Reply = Array<number | string | string[]>;
type Script = (...args: Array<string | number>) => Promise<Reply>;

/** The client with the store's scripts defined on it. */
type ScriptedRedis = Redis & {
  budgetReserve: Script;
  budgetSettle: Script;
  budgetRelease: Script;
  budgetUsage: Script;
  budgetReset: Script;
};

/** Longest wait between reconnection attempts while Redis is down. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * The budget store in Redis, shared by every replica. Each operation is one
 * Lua script (see redis-budget-scripts.ts). While Redis is down, operations
 * fail at once (no offline queue, no retries) and the client reconnects in
 * the background.
 */
export class RedisBudgetStore implements BudgetStore {
  readonly backend = 'redis';
  private readonly client: ScriptedRedis;
  private reachable = false;

  constructor(private readonly settings: RedisStoreSettings) {
    this.client = new Redis(settings.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
    }) as ScriptedRedis;
    this.defineScripts();
    this.watchConnection();
  }

  /**
   * Waits until the first connection is ready, at most the connect timeout.
   * Resolves either way: a store that is down at start is retried in the
   * background, and requests meanwhile follow `on_store_error`.
   */
  async connected(): Promise<boolean> {
    if (this.reachable) return true;

    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), this.settings.connectTimeoutMs);
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      this.client.on('ready', onReady);
    });
  }

  async reserve(
    key: PeriodKey,
    rule: CeilingRule,
    request: ReserveRequest,
  ): Promise<ReserveOutcome> {
    const reply = await this.run('reserve', () =>
      this.client.budgetReserve(
        this.periodKey(key.tenant, key.startMs),
        this.expiryKey(key.tenant, key.startMs),
        this.periodKey(key.tenant, key.previousStartMs),
        this.tenantsKey(),
        request.nowMs,
        request.estimate,
        request.reservationId,
        request.expiresAtMs,
        request.dryRun ? 1 : 0,
        rule.limit,
        rule.rollover ? 1 : 0,
        rule.burstAllowance,
        rule.enforce ? 1 : 0,
        key.keepUntilMs,
        key.tenant,
        key.endMs,
      ),
    );
    const [admitted, used, reserved, allowance] = reply.map(Number);
    return { admitted: admitted === 1, used: used!, reserved: reserved!, allowance: allowance! };
  }

  async settle(key: PeriodKey, rule: CeilingRule, request: SettleRequest): Promise<SettleOutcome> {
    const reply = await this.run('settle', () =>
      this.client.budgetSettle(
        this.periodKey(key.tenant, key.startMs),
        this.expiryKey(key.tenant, key.startMs),
        this.periodKey(key.tenant, key.previousStartMs),
        request.nowMs,
        request.reservationId,
        request.tokens,
        rule.limit,
        rule.rollover ? 1 : 0,
        key.keepUntilMs,
        ...request.thresholds.map(String),
      ),
    );
    const [usedBefore, usedAfter, reserved, allowance] = reply.slice(0, 4).map(Number);
    const fired = (reply[4] as string[]).map(Number);
    return {
      usedBefore: usedBefore!,
      usedAfter: usedAfter!,
      reserved: reserved!,
      allowance: allowance!,
      fired,
    };
  }

  // ZADD XX changes only an id still in the expiry set: a reservation that was
  // settled, released or swept is not brought back. One command, so atomic.
  async extend(key: PeriodKey, reservationId: string, expiresAtMs: number): Promise<void> {
    await this.run('extend', () =>
      this.client.zadd(this.expiryKey(key.tenant, key.startMs), 'XX', expiresAtMs, reservationId),
    );
  }

  async release(key: PeriodKey, reservationId: string): Promise<void> {
    await this.run('release', () =>
      this.client.budgetRelease(
        this.periodKey(key.tenant, key.startMs),
        this.expiryKey(key.tenant, key.startMs),
        reservationId,
      ),
    );
  }

  async usage(key: PeriodKey, rule: CeilingRule, nowMs: number): Promise<PeriodUsage> {
    const reply = await this.run('read usage', () =>
      this.client.budgetUsage(
        this.periodKey(key.tenant, key.startMs),
        this.expiryKey(key.tenant, key.startMs),
        this.periodKey(key.tenant, key.previousStartMs),
        nowMs,
        rule.limit,
        rule.rollover ? 1 : 0,
      ),
    );
    const [used, reserved, allowance] = reply.map(Number);
    return { used: used!, reserved: reserved!, allowance: allowance! };
  }

  async reset(key: PeriodKey): Promise<void> {
    await this.run('reset', () =>
      this.client.budgetReset(
        this.periodKey(key.tenant, key.startMs),
        this.expiryKey(key.tenant, key.startMs),
        key.keepUntilMs,
      ),
    );
  }

  activeTenants(nowMs: number): Promise<string[]> {
    return this.run('list tenants', () =>
      this.client.zrangebyscore(this.tenantsKey(), `(${nowMs}`, '+inf'),
    );
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new BudgetStoreError(operation, this.backend, error);
    }
  }

  private defineScripts(): void {
    this.client.defineCommand('budgetReserve', { numberOfKeys: 4, lua: RESERVE_SCRIPT });
    this.client.defineCommand('budgetSettle', { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    this.client.defineCommand('budgetRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT });
    this.client.defineCommand('budgetUsage', { numberOfKeys: 3, lua: USAGE_SCRIPT });
    this.client.defineCommand('budgetReset', { numberOfKeys: 2, lua: RESET_SCRIPT });
  }

  // ioredis emits `error` on every failed reconnection attempt. The ledger
  // logs the outage and the recovery once each, from the operations' results.
  private watchConnection(): void {
    this.client.on('ready', () => (this.reachable = true));
    this.client.on('error', () => (this.reachable = false));
    this.client.on('close', () => (this.reachable = false));
  }

  private periodKey(tenant: string, startMs: number): string {
    return `${this.settings.keyPrefix}budget:${tenant}:${Math.floor(startMs / 1000)}`;
  }

  private expiryKey(tenant: string, startMs: number): string {
    return `${this.periodKey(tenant, startMs)}:expiry`;
  }

  private tenantsKey(): string {
    return `${this.settings.keyPrefix}budget:tenants`;
  }
}
