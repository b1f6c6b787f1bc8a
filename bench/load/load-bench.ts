import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';

import { listBenchConfigs, prepareConfig, type BenchConfig } from './bench-configs.js';
import type { BenchPlan } from './bench-plan.js';
import { BenchServer, NOOP_SERVER, TOLLGATE_MAIN } from './bench-server.js';
import type { ResponseMode } from './envoy-exchange.js';
import { median, type LatencySummary } from './latency-summary.js';
import { LoadDriver } from './load-driver.js';
import { findRedisServer, RedisServer } from '../../test/helpers/redis-server.js';

/** The key of the floor (no-op server) in the results. */
export const FLOOR = 'floor';

/** One measured run of one server. */
export interface RunMeasurement {
  readonly requests: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** The server process's CPU time per completed request, microseconds. */
  readonly serverCpuPerRequestUs: number;
  readonly driverCpuPerRequestUs: number;
  readonly serverRssMiB: number;
}

/** The medians of a row's runs. */
export interface RowMedians {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly serverCpuPerRequestUs: number;
}

/** tollgate against the floor in the same cell. */
export interface VersusFloor {
  /** tollgate's requests/s over the floor's. */
  readonly throughput: number;
  /** tollgate's server CPU per request over the floor's. */
  readonly cpu: number;
  /** tollgate's p50 minus the floor's, milliseconds. */
  readonly p50DeltaMs: number;
}

/** One server in one cell (mode × concurrency). */
export interface ResultRow {
  /** `floor` or a configuration name. */
  readonly server: string;
  readonly title: string;
  readonly mode: ResponseMode;
  readonly concurrency: number;
  readonly runs: readonly RunMeasurement[];
  readonly median: RowMedians;
  readonly errors: number;
  readonly versusFloor?: VersusFloor;
}

/** A configuration that was not measured, and why. */
export interface SkippedConfig {
  readonly server: string;
  readonly reason: string;
}

/** Everything one invocation measured. */
export interface BenchReport {
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly machine: { cores: number; cpuModel: string; node: string; platform: string };
  readonly plan: BenchPlan;
  readonly rows: readonly ResultRow[];
  readonly skipped: readonly SkippedConfig[];
  /** Per tollgate configuration: usage settlements by source, from its /metrics. */
  readonly settlements: Record<string, Record<string, number>>;
}

/** Where progress lines go (stderr by default, so stdout holds only the table). */
export type ProgressSink = (line: string) => void;

interface Contender {
  readonly key: string;
  readonly title: string;
  readonly server: BenchServer;
  readonly driver: LoadDriver;
}

/** The processes one invocation started, so that they are all stopped at the end. */
class Fleet {
  readonly contenders: Contender[] = [];
  redis: RedisServer | undefined;
  readonly tmp = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-'));

  add(key: string, title: string, server: BenchServer): Contender {
    const contender = { key, title, server, driver: new LoadDriver(server.target) };
    this.contenders.push(contender);
    return contender;
  }

  async stop(): Promise<void> {
    for (const contender of this.contenders) contender.driver.close();
    await Promise.all(this.contenders.map((contender) => contender.server.stop()));
    await this.redis?.stop();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** A sum of a metric's samples in Prometheus text, by one label's value. */
function metricByLabel(text: string, metric: string, label: string): Record<string, number> {
  const totals: Record<string, number> = {};
  const pattern = new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels, value] of text.matchAll(pattern)) {
    const match = new RegExp(`${label}="([^"]*)"`).exec(labels ?? '');
    const key = match?.[1] ?? '';
    totals[key] = (totals[key] ?? 0) + Number(value);
  }
  return totals;
}

async function startTollgate(
  config: BenchConfig,
  fleet: Fleet,
  skipped: SkippedConfig[],
): Promise<BenchServer | undefined> {
  if (config.needsRedis && !fleet.redis) {
    const executable = findRedisServer();
    if (!executable) {
      skipped.push({ server: config.name, reason: 'redis-server is not installed' });
      return undefined;
    }
    fleet.redis = await RedisServer.start(executable);
  }

  const prepared = prepareConfig(config, { benchTmp: fleet.tmp, redisUrl: fleet.redis?.url });
  if (!prepared.ok) {
    skipped.push({ server: config.name, reason: prepared.reason });
    return undefined;
  }

  return BenchServer.start({
    name: `tollgate (${config.name})`,
    script: TOLLGATE_MAIN,
    args: [
      '--config',
      prepared.file,
      '--grpc-address',
      '127.0.0.1:0',
      '--admin-address',
      '127.0.0.1:0',
    ],
  });
}

/**
 * A budget configuration the schema accepts might still not reach the
 * request path (the gate not wired yet): after its warm-up it must have
 * counted budget decisions, or it is not measured.
 */
async function budgetsExercised(server: BenchServer): Promise<boolean> {
  const metrics = await server.admin('/metrics');
  const decisions = metricByLabel(metrics.text, 'tollgate_budget_decisions_total', 'result');
  return Object.values(decisions).some((count) => count > 0);
}

async function measure(
  contender: Contender,
  mode: ResponseMode,
  concurrency: number,
  seconds: number,
): Promise<RunMeasurement> {
  const before = await contender.server.cpu();
  const load = await contender.driver.run({ mode, concurrency, durationSeconds: seconds });
  const after = await contender.server.cpu();

  return {
    requests: load.requests,
    errors: load.errors,
    errorSamples: load.errorSamples,
    requestsPerSecond: load.requestsPerSecond,
    latencyMs: load.latencyMs,
    serverCpuPerRequestUs: (after.cpuMicros - before.cpuMicros) / Math.max(load.requests, 1),
    driverCpuPerRequestUs: load.driverCpuPerRequestUs,
    serverRssMiB: after.rssBytes / 2 ** 20,
  };
}

function medians(runs: readonly RunMeasurement[]): RowMedians {
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50: median(runs.map((run) => run.latencyMs.p50)),
    p90: median(runs.map((run) => run.latencyMs.p90)),
    p99: median(runs.map((run) => run.latencyMs.p99)),
    max: median(runs.map((run) => run.latencyMs.max)),
    serverCpuPerRequestUs: median(runs.map((run) => run.serverCpuPerRequestUs)),
  };
}

function versus(row: RowMedians, floor: RowMedians): VersusFloor {
  return {
    throughput: row.requestsPerSecond / floor.requestsPerSecond,
    cpu: row.serverCpuPerRequestUs / floor.serverCpuPerRequestUs,
    p50DeltaMs: row.p50 - floor.p50,
  };
}

/** The contenders in round `round`'s order: rotated, so no server always runs first. */
function rotated<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function startFleet(
  plan: BenchPlan,
  fleet: Fleet,
  skipped: SkippedConfig[],
  progress: ProgressSink,
): Promise<void> {
  const floor = await BenchServer.start({ name: 'no-op floor', script: NOOP_SERVER, args: [] });
  fleet.add(FLOOR, 'floor (no-op)', floor);

  const wanted = listBenchConfigs().filter(
    (config) => !plan.configs || plan.configs.includes(config.name),
  );
  for (const config of wanted) {
    const server = await startTollgate(config, fleet, skipped);
    if (server) fleet.add(config.name, config.title, server);
  }

  for (const contender of fleet.contenders) {
    progress(`warming up ${contender.title}`);
    for (const mode of plan.modes) {
      const concurrency = Math.max(...plan.concurrencies);
      await contender.driver.run({ mode, concurrency, durationSeconds: plan.warmupSeconds });
    }
  }

  const budgeted = fleet.contenders.filter((contender) =>
    wanted.some((config) => config.name === contender.key && config.needsBudgets),
  );
  for (const contender of budgeted) {
    if (await budgetsExercised(contender.server)) continue;
    skipped.push({
      server: contender.key,
      reason: 'budgets: is accepted, but no tollgate_budget_decisions_total was counted',
    });
    fleet.contenders.splice(fleet.contenders.indexOf(contender), 1);
    contender.driver.close();
    await contender.server.stop();
  }
}

async function readSettlements(fleet: Fleet): Promise<Record<string, Record<string, number>>> {
  const settlements: Record<string, Record<string, number>> = {};
  for (const contender of fleet.contenders) {
    if (contender.key === FLOOR) continue;
    const metrics = await contender.server.admin('/metrics');
    settlements[contender.key] = metricByLabel(
      metrics.text,
      'tollgate_usage_settlements_total',
      'source',
    );
  }
  return settlements;
}

/**
 * Starts the floor and every configuration's tollgate as separate processes,
 * warms them up, then measures each cell (mode × concurrency) in rounds: every
 * round runs each server once, in a rotating order, so that the noise of a
 * shared machine falls on all of them alike. Each row reports the medians of
 * its runs and, for tollgate, the ratio to the floor measured in the same
 * rounds. Every process it started is stopped before it returns.
 */
export async function runLoadBench(
  plan: BenchPlan,
  progress: ProgressSink = (line) => process.stderr.write(`${line}\n`),
): Promise<BenchReport> {
  const startedAt = new Date();
  const fleet = new Fleet();
  const skipped: SkippedConfig[] = [];
  const rows: ResultRow[] = [];

  try {
    await startFleet(plan, fleet, skipped, progress);
    for (const mode of plan.modes) {
      for (const concurrency of plan.concurrencies) {
        progress(`measuring ${mode} at concurrency ${concurrency}`);
        const runs = new Map<string, RunMeasurement[]>();
        for (let round = 0; round < plan.runs; round++) {
          for (const contender of rotated(fleet.contenders, round)) {
            const run = await measure(contender, mode, concurrency, plan.runSeconds);
            runs.set(contender.key, [...(runs.get(contender.key) ?? []), run]);
          }
        }
        rows.push(...cellRows(fleet.contenders, runs, mode, concurrency));
      }
    }
    const settlements = await readSettlements(fleet);

    const cpu = cpus();
    return {
      startedAt: startedAt.toISOString(),
      wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
      machine: {
        cores: cpu.length,
        cpuModel: cpu[0]?.model ?? 'unknown',
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      plan,
      rows,
      skipped,
      settlements,
    };
  } finally {
    await fleet.stop();
  }
}

function cellRows(
  contenders: readonly Contender[],
  runs: Map<string, RunMeasurement[]>,
  mode: ResponseMode,
  concurrency: number,
): ResultRow[] {
  const floorRuns = runs.get(FLOOR) ?? [];
  const floor = medians(floorRuns);

  return contenders.map((contender) => {
    const own = runs.get(contender.key) ?? [];
    const row = medians(own);
    return {
      server: contender.key,
      title: contender.title,
      mode,
      concurrency,
      runs: own,
      median: row,
      errors: own.reduce((sum, run) => sum + run.errors, 0),
      versusFloor: contender.key === FLOOR ? undefined : versus(row, floor),
    };
  });
}
