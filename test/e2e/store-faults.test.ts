import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { runBudgetLoad, TOKENS_PER_EXCHANGE } from '../helpers/budget-load.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TollgateProcess } from '../helpers/tollgate-process.js';

const EPHEMERAL = ['--grpc-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'];
const WORKERS = 16;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface BudgetView {
  used: number;
  reserved: number;
}

async function budgetOf(tollgate: TollgateProcess, tenant: string): Promise<BudgetView> {
  const { status, text } = await tollgate.admin(`/budgets/${tenant}`);
  assert.equal(status, 200, text);
  return JSON.parse(text) as BudgetView;
}

describe('budget stores under faults', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tollgate-faults-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function configFile(name: string, store: string, extra = ''): Promise<string> {
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(
      file,
      `budgets:
  enabled: true
  store: ${store}
  reservation_ttl_seconds: 1
${extra}  tenants:
    load: {period: monthly, limit: 1000000000}
`,
    );
    return file;
  }

  it('keeps what was settled when the process is killed (-9) under load', async () => {
    const config = await configFile('kill', `{backend: embedded, path: ${dir}/kill.db}`);
    const first = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
    const load = runBudgetLoad(first.grpcPort, 'load', WORKERS);
    await sleep(800);

    first.kill('SIGKILL');
    await first.exited;
    const tally = await load.stop();
    assert.ok(tally.completed > 0, 'some exchanges completed before the kill');

    const second = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
    try {
      const after = await budgetOf(second, 'load');
      // Each completed exchange was settled before its last reply; one in
      // flight at the kill may have settled without its reply arriving.
      const settledAtLeast = tally.completed * TOKENS_PER_EXCHANGE;
      const settledAtMost = (tally.completed + WORKERS) * TOKENS_PER_EXCHANGE;
      assert.ok(
        after.used >= settledAtLeast && after.used <= settledAtMost,
        JSON.stringify({
          tally,
          after,
        }),
      );
      assert.equal(after.used % TOKENS_PER_EXCHANGE, 0, 'no exchange is counted in part');

      // The killed process's open reservations expire after the TTL.
      await sleep(1200);
      assert.equal((await budgetOf(second, 'load')).reserved, 0);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
  });

  describe('Redis stopped under load and started again', () => {
    let redis: RedisServer | undefined;

    before(async () => {
      redis = await startRedisServer({ persistDir: dir });
    });
    after(async () => redis?.stop());

    it('fails open, logs the outage once, recovers, counts nothing twice', async (t) => {
      if (!redis) return t.skip('redis-server is not installed: the Redis tests were skipped');

      const store = `{backend: redis, url: "${redis.url}", key_prefix: "faults-${process.pid}:"}`;
      const config = await configFile('redis', store, '  on_store_error: fail_open\n');
      const tollgate = await TollgateProcess.start(['--config', config, ...EPHEMERAL]);
      try {
        const load = runBudgetLoad(tollgate.grpcPort, 'load', WORKERS);
        await sleep(500);
        const beforeOutage = load.tally.completed;
        await redis.stop();
        await sleep(1000);
        await redis.restart();
        await sleep(1500);
        const tally = await load.stop();

        assert.equal(tally.failed, 0, 'every stream got an answer');
        assert.equal(tally.answered, 0, 'fail_open admitted every request');
        const outage = tollgate
          .logLines()
          .filter((l) => /^budget store is unavailable/.test(`${l.msg}`));
        const back = tollgate.logLines().filter((l) => l.msg === 'budget store is available again');
        assert.equal(outage.length, 1, 'the outage is logged once, not per request');
        assert.equal(back.length, 1, 'the recovery is logged once');

        const settled = await budgetOf(tollgate, 'load');
        assert.equal(settled.used % TOKENS_PER_EXCHANGE, 0);
        assert.ok(settled.used >= beforeOutage * TOKENS_PER_EXCHANGE, JSON.stringify(settled));
        assert.ok(settled.used <= tally.completed * TOKENS_PER_EXCHANGE, 'nothing counted twice');

        const again = runBudgetLoad(tollgate.grpcPort, 'load', 1);
        await sleep(200);
        const extra = await again.stop();
        const recovered = await budgetOf(tollgate, 'load');
        assert.equal(recovered.used, settled.used + extra.completed * TOKENS_PER_EXCHANGE);
      } finally {
        tollgate.kill('SIGTERM');
        await tollgate.exited;
      }
    });
  });
});
