import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { measureBreakerDecision } from './breaker-decision.js';
import { measureBudgetDecisions } from './budget-decision.js';
import { measureEdsPushLatency } from './eds-push-latency.js';
import { measureSseExtraction } from './sse-extraction.js';
import { measureEstimateAccuracy, measureTokenEstimation } from './token-estimation.js';

const MB = 1_000_000;

/** The repository root, from the compiled file (`<outDir>/bench/micro/`). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Exact tokenizing of every prompt, against the default (estimated past 512 characters). */
const EXACT = { defaultOutputTokens: 1024, defaultInputTokens: 1024, tokenizeMaxChars: 64 << 20 };
const DEFAULT = { ...EXACT, tokenizeMaxChars: 512 };

/** Runs the micro-benchmarks, prints one line per measurement and writes them as JSON. */
async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const report: Record<string, unknown> = {};

  // Warm-up, so that the 1 MB runs are not JIT measurements.
  measureSseExtraction(8 * MB, 'usage_null');
  measureSseExtraction(8 * MB, 'no_usage_field');

  const sse = [];
  for (const shape of ['usage_null', 'no_usage_field'] as const) {
    for (const size of [1 * MB, 100 * MB]) {
      const result = measureSseExtraction(size, shape);
      console.log(
        `sse usage extraction ${(result.streamBytes / MB).toFixed(0)} MB (${shape}): ` +
          `${result.megabytesPerSecond.toFixed(0)} MB/s, ` +
          `rss ${result.rssBeforeMiB.toFixed(0)} -> ${result.rssAfterMiB.toFixed(0)} MiB, ` +
          `usage ${result.usageMatched ? 'exact' : 'WRONG'}`,
      );
      sse.push(result);
    }
  }
  report.sseExtraction = sse;

  measureTokenEstimation(4, EXACT); // warm-up
  measureTokenEstimation(4, DEFAULT);
  const estimation = [1, 10, 100].map((kib) => {
    const exact = measureTokenEstimation(kib, EXACT);
    const estimated = measureTokenEstimation(kib, DEFAULT);
    console.log(
      `prompt token estimation ${exact.bodyKiB.toFixed(0)} KiB body: ` +
        `tokenizer ${exact.microsPerKiB.toFixed(1)} µs/KiB (${exact.inputTokens} tokens), ` +
        `piece estimate ${estimated.microsPerKiB.toFixed(1)} µs/KiB ` +
        `(${estimated.inputTokens} tokens, ` +
        `${(estimated.inputTokens / exact.inputTokens).toFixed(2)}×)`,
    );
    return { exact, estimated };
  });
  const accuracy = measureEstimateAccuracy();
  console.log(
    `prompt estimate of the load bench's request: ${accuracy.estimated} input tokens ` +
      `for ${accuracy.exact} exact (${(accuracy.estimated / accuracy.exact).toFixed(2)}×)`,
  );
  report.tokenEstimation = { perSize: estimation, loadBenchRequest: accuracy };

  measureBreakerDecision(); // warm-up
  const breaker = measureBreakerDecision();
  console.log(
    `breaker decision (get, acquire, settle): ${breaker.nanosPerDecision.toFixed(0)} ns, ` +
      `${(breaker.decisionsPerSecond / 1e6).toFixed(1)} M/s`,
  );
  report.breakerDecision = breaker;

  const budgets = await measureBudgetDecisions();
  for (const budget of budgets) {
    const commands =
      budget.roundTripsPerAdmit === undefined
        ? ''
        : `, ${budget.roundTripsPerAdmit.toFixed(2)} round trips/admit, ` +
          `${budget.roundTripsPerSettle?.toFixed(2)} round trips/settle`;
    console.log(
      `budget decision (${budget.store}): admit ${budget.admitMicros.toFixed(0)} µs, ` +
        `settle ${budget.settleMicros.toFixed(0)} µs${commands}`,
    );
  }
  report.budgetDecisions = budgets;

  const eds = await measureEdsPushLatency();
  for (const latency of eds) {
    console.log(
      `eds push latency, ${latency.scenario}: p50 ${latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${latency.p99Ms.toFixed(2)} ms, max ${latency.maxMs.toFixed(2)} ms ` +
        `(${latency.samples} changes)`,
    );
  }
  report.edsPushLatency = eds;

  const file = writeJson(startedAt, report);
  console.log(`\nJSON report: ${path.relative(process.cwd(), file)}`);
}

function writeJson(startedAt: string, results: Record<string, unknown>): string {
  const dir = path.join(REPO_ROOT, '.bench-results');
  mkdirSync(dir, { recursive: true });
  const machine = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const text = `${JSON.stringify({ startedAt, machine, ...results }, null, 2)}\n`;
  const file = path.join(dir, `micro-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(path.join(dir, 'micro-latest.json'), text);
  return file;
}

await main();
