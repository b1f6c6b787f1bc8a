import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, InvalidArgumentError } from 'commander';

import { FULL_PLAN, SMOKE_PLAN, type BenchPlan } from './bench-plan.js';
import type { ResponseMode } from './envoy-exchange.js';
import { runLoadBench, type BenchReport } from './load-bench.js';
import { formatReport } from './report-table.js';

/** The repository root, from the compiled file (`<outDir>/bench/load/`). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Flags {
  smoke?: boolean;
  runs?: number;
  seconds?: number;
  config?: string[];
  mode?: ResponseMode[];
  concurrency?: number[];
  out: string;
}

function positive(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError('expected a number above 0');
  return number;
}

function concurrencyList(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError('expected whole numbers ≥ 1, e.g. 1,16,64');
  }
  return list;
}

function modeList(value: string): ResponseMode[] {
  const list = value.split(',');
  if (list.some((mode) => mode !== 'json' && mode !== 'sse')) {
    throw new InvalidArgumentError('expected json, sse or json,sse');
  }
  return list as ResponseMode[];
}

function parseFlags(argv: string[]): Flags {
  return new Command('bench-load')
    .description('tollgate against a no-op ext_proc server, A/B interleaved (npm run bench)')
    .option('--smoke', 'a few seconds: the floor and the breakers config, JSON, concurrency 4')
    .option('--runs <n>', 'measured runs per row (median)', positive)
    .option('--seconds <s>', 'length of one run', positive)
    .option('--config <name...>', 'configurations (files in bench/configs/) to measure')
    .option('--mode <list>', 'json, sse or json,sse', modeList)
    .option('--concurrency <list>', 'e.g. 1,16,64', concurrencyList)
    .option('--out <dir>', 'where the JSON report goes', path.join(REPO_ROOT, '.bench-results'))
    .showHelpAfterError()
    .parse(argv)
    .opts<Flags>();
}

function planOf(flags: Flags): BenchPlan {
  const base = flags.smoke ? SMOKE_PLAN : FULL_PLAN;
  return {
    ...base,
    runs: flags.runs ?? base.runs,
    runSeconds: flags.seconds ?? base.runSeconds,
    configs: flags.config ?? base.configs,
    modes: flags.mode ?? base.modes,
    concurrencies: flags.concurrency ?? base.concurrencies,
  };
}

function writeJson(report: BenchReport, dir: string, smoke: boolean): string {
  mkdirSync(dir, { recursive: true });
  const kind = smoke ? 'smoke' : 'load';
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${kind}-${stamp}.json`);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(path.join(dir, `${kind}-latest.json`), text);
  return file;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const report = await runLoadBench(planOf(flags));
  const file = writeJson(report, flags.out, flags.smoke === true);

  console.log(formatReport(report));
  console.log(`\nJSON report: ${path.relative(process.cwd(), file)}`);

  const errors = report.rows.reduce((sum, row) => sum + row.errors, 0);
  if (errors > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`load bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
