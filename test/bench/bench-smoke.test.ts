import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { listBenchConfigs } from '../../bench/load/bench-configs.js';
import { SMOKE_PLAN } from '../../bench/load/bench-plan.js';
import { chatRequestBody } from '../../bench/load/chat-payloads.js';
import { summariseLatencies } from '../../bench/load/latency-summary.js';
import { FLOOR, runLoadBench, type ResultRow } from '../../bench/load/load-bench.js';
import { LoadDriver } from '../../bench/load/load-driver.js';
import { formatTable } from '../../bench/load/report-table.js';

function assertSane(row: ResultRow | undefined, name: string): asserts row is ResultRow {
  assert.ok(row, `no row for ${name}`);
  const [run] = row.runs;
  assert.ok(run, `${name} has no run`);

  assert.equal(row.errors, 0, `${name} errors: ${run.errorSamples.join('; ')}`);
  assert.ok(run.requests > 0, `${name} completed no request`);
  assert.ok(row.median.requestsPerSecond > 0);
  assert.ok(row.median.serverCpuPerRequestUs > 0, `${name} reported no server CPU time`);
  assert.ok(Number.isFinite(row.median.serverCpuPerRequestUs));
  assert.ok(row.median.p50 > 0 && row.median.p50 <= row.median.p99);
  assert.ok(row.median.p99 <= row.median.max);
}

describe('load bench', () => {
  it('drives the no-op floor and tollgate in their own processes, with sane numbers', async () => {
    const report = await runLoadBench(SMOKE_PLAN, () => undefined);

    const floor = report.rows.find((row) => row.server === FLOOR);
    const tollgate = report.rows.find((row) => row.server === 'breakers');
    assertSane(floor, 'the floor');
    assertSane(tollgate, 'tollgate');
    assert.equal(floor.versusFloor, undefined);
    assert.ok(tollgate.versusFloor && tollgate.versusFloor.throughput > 0);
    assert.ok(tollgate.versusFloor.cpu > 0);
    assert.deepEqual(report.skipped, []);
    assert.match(formatTable(report.rows), /\| json \| +4 \| breakers +\|/);
  });

  it('lists the configuration files in table order, with their bench flags', () => {
    const configs = listBenchConfigs();
    const names = configs.map((config) => config.name);

    assert.deepEqual(names.slice(0, 2), ['breakers', 'full']);
    assert.ok(configs.some((config) => config.needsRedis && config.needsBudgets));
  });

  it('refuses a target that is not on loopback', () => {
    assert.throws(() => new LoadDriver('10.1.2.3:50051'), /not on loopback/);
    assert.throws(() => new LoadDriver('127.0.0.1:http'), /no valid port/);
  });

  it('sends a chat request body of about 1 KB', () => {
    const bytes = chatRequestBody(false).length;
    assert.ok(bytes >= 900 && bytes <= 1200, `${bytes} bytes`);
  });

  it('summarises latencies by nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, index) => index + 1);
    assert.deepEqual(summariseLatencies(samples), { p50: 50, p90: 90, p99: 99, max: 100 });
  });
});
