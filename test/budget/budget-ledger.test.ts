import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { BudgetAdmission } from '../../src/budget/budget-ledger.js';
import { sampleValue } from '../helpers/metrics.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import {
  embeddedKind,
  FUTURE,
  ledgerOn,
  redisKind,
  usage,
  type StoreKind,
  type TestLedger,
} from './ledger-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let redis: RedisServer | undefined;
before(async () => {
  redis = await startRedisServer();
});
after(async () => redis?.stop());

const kinds: StoreKind[] = [embeddedKind(), redisKind(() => redis)];
after(async () => Promise.all(kinds.map((kind) => kind.cleanUp())));

function budget(tenant: string, fields: string): string {
  return `  tenants:\n    ${tenant}: {${fields}}\n`;
}

/** Admits `estimate` and settles it at once with `used` input tokens. */
async function spend(gate: TestLedger, tenant: string, estimate: number, used = estimate) {
  const admission = await gate.ledger.admit(tenant, estimate);
  assert.ok('reservation' in admission, `admitted ${estimate} for ${tenant}`);
  await admission.reservation.settle(usage(used, 0));
  return admission;
}

function resultOf(admission: BudgetAdmission): string {
  return admission.result;
}

for (const kind of kinds) {
  describe(`BudgetLedger on the ${kind.name} store`, () => {
    async function open(yaml: string, startMs = FUTURE): Promise<TestLedger | undefined> {
      const store = await kind.fresh();
      if (!store) return undefined;
      const gate = ledgerOn(store, yaml);
      gate.clock.setWall(startMs);
      return gate;
    }

    const skip = 'redis-server is not installed: the Redis ledger tests were skipped';

    it('allows within the limit and reports what remains after the estimate', async (t) => {
      const gate = await open(budget('acme', 'period: daily, limit: 1000'));
      if (!gate) return t.skip(skip);

      const admission = await gate.ledger.admit('acme', 300);
      assert.equal(admission.result, 'allowed');
      assert.equal('remaining' in admission && admission.remaining, 700);
      await gate.ledger.close();
    });

    it('answers soft through the burst allowance, with the overage', async (t) => {
      const gate = await open(budget('acme', 'period: daily, limit: 1000, burst_allowance: 0.1'));
      if (!gate) return t.skip(skip);

      await spend(gate, 'acme', 950);
      const soft = await gate.ledger.admit('acme', 120);
      assert.equal(soft.result, 'soft');
      assert.deepEqual(soft.result === 'soft' && [soft.remaining, soft.overBy], [0, 70]);

      const refused = await gate.ledger.admit('acme', 100);
      assert.equal(refused.result, 'exhausted');
      await gate.ledger.close();
    });

    it('answers exhausted with the seconds to the next UTC midnight', async (t) => {
      const at = Date.UTC(2031, 4, 20, 22, 0, 0);
      const gate = await open(budget('acme', 'period: daily, limit: 100'), at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'acme', 100);
      const refused = await gate.ledger.admit('acme', 1);
      assert.equal(refused.result, 'exhausted');
      assert.equal(refused.result === 'exhausted' && refused.retryAfterSecs, 2 * 3600);
      assert.equal(refused.result === 'exhausted' && refused.resetAt, Date.UTC(2031, 4, 21) / 1000);
      await gate.ledger.close();
    });

    it('admits everything past the limit as soft when enforce is off', async (t) => {
      const gate = await open(budget('acme', 'period: hourly, limit: 100, enforce: false'));
      if (!gate) return t.skip(skip);

      await spend(gate, 'acme', 100);
      const over = await gate.ledger.admit('acme', 5000);
      assert.equal(over.result, 'soft');
      assert.equal(over.result === 'soft' && over.overBy, 5000);
      const status = await gate.ledger.status('acme');
      assert.ok(status.budgeted && status.exhausted && status.remaining === 0);
      await gate.ledger.close();
    });

    it('gives a tenant first seen at 23:59 the current day, ending a minute later', async (t) => {
      const at = Date.UTC(2031, 2, 9, 23, 59, 0);
      const gate = await open(budget('late', 'period: daily, limit: 50'), at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'late', 50);
      const refused = await gate.ledger.admit('late', 1);
      assert.equal(refused.result === 'exhausted' && refused.retryAfterSecs, 60);
      const status = await gate.ledger.status('late');
      assert.equal(status.budgeted && status.periodStart, '2031-03-09T00:00:00.000Z');

      gate.clock.advance(60_000);
      assert.equal(resultOf(await gate.ledger.admit('late', 50)), 'allowed');
      await gate.ledger.close();
    });

    it('ends monthly periods on the 1st with real month lengths, leap February too', async (t) => {
      const at = Date.UTC(2032, 1, 28, 12, 0, 0);
      const gate = await open(budget('m', 'period: monthly, limit: 10'), at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'm', 10);
      const refused = await gate.ledger.admit('m', 1);
      assert.equal(refused.result === 'exhausted' && refused.retryAfterSecs, 36 * 3600);
      const status = await gate.ledger.status('m');
      assert.ok(status.budgeted);
      assert.equal(status.periodEnd, '2032-03-01T00:00:00.000Z');

      gate.clock.setWall(Date.UTC(2032, 2, 1));
      assert.equal(resultOf(await gate.ledger.admit('m', 10)), 'allowed');
      await gate.ledger.close();
    });

    it('aligns custom periods to multiples of their length since the epoch', async (t) => {
      const length = 4 * 3600;
      const at = Date.UTC(2031, 6, 1, 5, 30, 0);
      const gate = await open(budget('c', `period: {custom_seconds: ${length}}, limit: 10`), at);
      if (!gate) return t.skip(skip);

      const status = await gate.ledger.status('c');
      assert.ok(status.budgeted);
      assert.equal(status.periodStart, '2031-07-01T04:00:00.000Z');
      assert.equal(status.periodEnd, '2031-07-01T08:00:00.000Z');
      await gate.ledger.close();
    });

    it('rolls unused tokens over into the next period, capped at one extra limit', async (t) => {
      const at = Date.UTC(2031, 0, 10, 10, 0, 0);
      const gate = await open(budget('r', 'period: daily, limit: 1000, rollover: true'), at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'r', 300);
      gate.clock.setWall(at + DAY);
      const rolled = await gate.ledger.status('r');
      assert.ok(rolled.budgeted);
      assert.equal(rolled.allowance, 1700);
      assert.equal(rolled.remaining, 1700);

      await spend(gate, 'r', 1);
      gate.clock.setWall(at + 2 * DAY);
      const capped = await gate.ledger.status('r');
      assert.equal(capped.budgeted && capped.allowance, 1999);
      await gate.ledger.close();
    });

    it('starts each period at zero without rollover; a new tenant never rolls over', async (t) => {
      const at = Date.UTC(2031, 0, 10, 10, 0, 0);
      const yaml =
        budget('plain', 'period: daily, limit: 1000') +
        '    fresh: {period: daily, limit: 1000, rollover: true}\n';
      const gate = await open(yaml, at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'plain', 900);
      gate.clock.setWall(at + DAY);
      const plain = await gate.ledger.status('plain');
      assert.ok(plain.budgeted);
      assert.deepEqual([plain.used, plain.allowance], [0, 1000]);

      const fresh = await gate.ledger.status('fresh');
      assert.equal(fresh.budgeted && fresh.allowance, 1000);
      await gate.ledger.close();
    });

    it('reserves at once, so concurrent admissions cannot overspend', async (t) => {
      const gate = await open(budget('busy', 'period: daily, limit: 1000'));
      if (!gate) return t.skip(skip);

      const admissions = await Promise.all(
        Array.from({ length: 60 }, () => gate.ledger.admit('busy', 100)),
      );
      assert.equal(admissions.filter((a) => a.result === 'allowed').length, 10);
      const status = await gate.ledger.status('busy');
      assert.ok(status.budgeted);
      assert.deepEqual([status.used, status.reserved, status.remaining], [0, 1000, 0]);
      await gate.ledger.close();
    });

    it('settles a reservation with the actual usage, once, and releases unused ones', async (t) => {
      const gate = await open(budget('s', 'period: daily, limit: 1000'));
      if (!gate) return t.skip(skip);

      const first = await gate.ledger.admit('s', 400);
      const second = await gate.ledger.admit('s', 400);
      assert.ok('reservation' in first && 'reservation' in second);
      await first.reservation.settle(usage(120, 30));
      await first.reservation.settle(usage(999, 999));
      await second.reservation.release();

      const status = await gate.ledger.status('s');
      assert.ok(status.budgeted);
      assert.deepEqual([status.used, status.reserved, status.remaining], [150, 0, 850]);
      await gate.ledger.close();
    });

    it('counts only the configured token kinds', async (t) => {
      const gate = await open(budget('o', 'period: daily, limit: 1000, count: [output]'));
      if (!gate) return t.skip(skip);

      const admission = await gate.ledger.admit('o', 10);
      assert.ok('reservation' in admission);
      await admission.reservation.settle(usage(500, 40));
      const status = await gate.ledger.status('o');
      assert.equal(status.budgeted && status.used, 40);
      await gate.ledger.close();
    });

    it('drops a reservation never settled after reservation_ttl_seconds', async (t) => {
      const yaml = '  reservation_ttl_seconds: 60\n' + budget('ttl', 'period: daily, limit: 100');
      const crashed = await open(yaml);
      if (!crashed) return t.skip(skip);

      // The first process reserves, then its clock never moves again: it
      // crashed, so nothing renews its reservation. A second one sees it go.
      // The embedded file serves one process, and a process's reservations
      // die with it; there a second ledger on the same store plays the
      // survivor, and the first one's reservation goes unrenewed all the same.
      assert.equal(resultOf(await crashed.ledger.admit('ttl', 100)), 'allowed');
      const peer = kind.sharedByProcesses ? await kind.again() : crashed.store;
      const survivor = ledgerOn(peer, yaml);
      survivor.clock.setWall(crashed.clock.wallMs());
      assert.equal(resultOf(await survivor.ledger.admit('ttl', 1)), 'exhausted');
      survivor.clock.advance(61_000);
      assert.equal(resultOf(await survivor.ledger.admit('ttl', 100)), 'allowed');
      await survivor.ledger.close();
      await crashed.ledger.close();
    });

    it('keeps renewing the reservation of a request that runs past the time to live', async (t) => {
      const yaml = '  reservation_ttl_seconds: 60\n' + budget('long', 'period: daily, limit: 100');
      const gate = await open(yaml);
      if (!gate) return t.skip(skip);

      const running = await gate.ledger.admit('long', 100);
      assert.ok('reservation' in running);
      for (let minute = 0; minute < 5; minute++) {
        gate.clock.advance(60_000);
        assert.equal(resultOf(await gate.ledger.admit('long', 1)), 'exhausted', `${minute} min`);
      }

      await running.reservation.settle(usage(30, 0));
      assert.equal(gate.clock.pendingTimers(), 0, 'a settled reservation stops renewing');
      assert.equal(resultOf(await gate.ledger.admit('long', 70)), 'allowed');
      await gate.ledger.close();
    });

    it('charges work already done even when the budget is exhausted', async (t) => {
      const gate = await open(budget('late', 'period: daily, limit: 100'));
      if (!gate) return t.skip(skip);

      await spend(gate, 'late', 100);
      assert.equal(resultOf(await gate.ledger.admit('late', 1)), 'exhausted');
      await gate.ledger.charge('late')!.settle(usage(40, 2));

      const status = await gate.ledger.status('late');
      assert.equal(status.budgeted && status.used, 142);
      assert.equal(gate.ledger.charge('nobody-budgeted'), undefined);
      await gate.ledger.close();
    });

    it('fires each alert threshold once a period, several when crossed together', async (t) => {
      const yaml = budget('al', 'period: daily, limit: 1000, alert_thresholds: [0.5, 0.8, 0.9]');
      const gate = await open(yaml, Date.UTC(2031, 0, 10, 10, 0, 0));
      if (!gate) return t.skip(skip);

      await spend(gate, 'al', 100);
      await spend(gate, 'al', 750);
      await spend(gate, 'al', 60);
      await spend(gate, 'al', 60);
      const fired = gate.logs.find('of its token budget').map((line) => line.threshold);
      assert.deepEqual(fired, [0.5, 0.8, 0.9]);

      gate.clock.setWall(Date.UTC(2031, 0, 11, 10, 0, 0));
      await spend(gate, 'al', 600);
      const again = gate.logs.find('of its token budget').map((line) => line.threshold);
      assert.deepEqual(again, [0.5, 0.8, 0.9, 0.5]);

      const text = await gate.metrics.metrics();
      assert.equal(sampleValue(text, 'tollgate_budget_alerts_total', { threshold: '0.5' }), 2);
      await gate.ledger.close();
    });

    it('reports used, reserved, remaining (never below 0), fraction and period', async (t) => {
      const at = Date.UTC(2031, 0, 10, 10, 30, 0);
      const gate = await open(budget('st', 'period: hourly, limit: 200'), at);
      if (!gate) return t.skip(skip);

      await spend(gate, 'st', 10, 250);
      assert.equal(resultOf(await gate.ledger.admit('st', 0)), 'exhausted');
      const status = await gate.ledger.status('st');
      assert.deepEqual(status, {
        tenant: 'st',
        key: 'st',
        budget: 'st',
        budgeted: true,
        period: 'hourly',
        used: 250,
        reserved: 0,
        limit: 200,
        allowance: 200,
        remaining: 0,
        usageFraction: 1.25,
        exhausted: true,
        enforce: true,
        periodStart: '2031-01-10T10:00:00.000Z',
        periodEnd: '2031-01-10T11:00:00.000Z',
      });
      await gate.ledger.close();
    });

    it('applies the default budget to unnamed tenants, and none without one', async (t) => {
      const named = await open(budget('only', 'period: daily, limit: 5'));
      if (!named) return t.skip(skip);
      assert.equal(resultOf(await named.ledger.admit('stranger', 1_000_000)), 'unbudgeted');
      await named.ledger.close();

      const withDefault = await open(budget('default', 'period: daily, limit: 5'));
      assert.equal(resultOf(await withDefault!.ledger.admit('stranger', 6)), 'exhausted');
      const listed = await withDefault!.ledger.list();
      assert.deepEqual(listed, []);
      await withDefault!.ledger.admit('stranger', 5);
      assert.deepEqual(
        (await withDefault!.ledger.list()).map((status) => status.tenant),
        ['stranger'],
      );
      await withDefault!.ledger.close();
    });

    it('resets the current period to zero', async (t) => {
      const gate = await open(budget('z', 'period: daily, limit: 100'));
      if (!gate) return t.skip(skip);

      await spend(gate, 'z', 100);
      await gate.ledger.reset('z');
      const status = await gate.ledger.status('z');
      assert.ok(status.budgeted);
      assert.deepEqual([status.used, status.reserved, status.remaining], [0, 0, 100]);
      await gate.ledger.close();
    });

    it('shares usage with a second ledger on the same data (restart or replica)', async (t) => {
      const gate = await open(budget('keep', 'period: daily, limit: 1000'));
      if (!gate) return t.skip(skip);

      await spend(gate, 'keep', 10, 321);
      await gate.ledger.close();

      const again = ledgerOn(await kind.again(), budget('keep', 'period: daily, limit: 1000'));
      again.clock.setWall(gate.clock.wallMs());
      const status = await again.ledger.status('keep');
      assert.equal(status.budgeted && status.used, 321);
      await again.ledger.close();
    });
  });
}

describe('BudgetLedger when the store is unreachable', () => {
  it('answers unavailable with the configured fail mode, logging the outage once', async (t) => {
    if (!redis) return t.skip('redis-server is not installed');
    const kind = redisKind(() => redis);
    const store = await kind.fresh();
    const gate = ledgerOn(
      store!,
      '  on_store_error: fail_closed\n' + budget('d', 'period: daily, limit: 9'),
    );
    try {
      await redis.stop();
      const answers = await Promise.all([1, 2, 3].map(() => gate.ledger.admit('d', 1)));
      assert.deepEqual(
        answers.map((a) => a.result === 'unavailable' && a.failOpen),
        [false, false, false],
      );
      assert.equal(gate.logs.find('budget store is unavailable').length, 1);
    } finally {
      await redis.restart();
    }

    const deadline = Date.now() + 5000;
    let back = await gate.ledger.admit('d', 1);
    while (back.result === 'unavailable' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      back = await gate.ledger.admit('d', 1);
    }
    assert.equal(back.result, 'allowed');
    assert.equal(gate.logs.find('budget store is available again').length, 1);
    await gate.ledger.close();
  });
});
