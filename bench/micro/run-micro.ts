import { measureBreakerDecision } from './breaker-decision.js';
import { measureBudgetDecisions } from './budget-decision.js';
import { measureEdsPushLatency } from './eds-push-latency.js';
import { measureSseExtraction } from './sse-extraction.js';
import { measureTokenEstimation } from './token-estimation.js';

const MB = 1_000_000;

/** Runs the micro-benchmarks and prints one line per measurement. */
async function main(): Promise<void> {
  // Warm-up, so that the 1 MB runs are not JIT measurements.
  measureSseExtraction(8 * MB, 'usage_null');
  measureSseExtraction(8 * MB, 'no_usage_field');

  for (const shape of ['usage_null', 'no_usage_field'] as const) {
    for (const size of [1 * MB, 100 * MB]) {
      const result = measureSseExtraction(size, shape);
      console.log(
        `sse usage extraction ${(result.streamBytes / MB).toFixed(0)} MB (${shape}): ` +
          `${result.megabytesPerSecond.toFixed(0)} MB/s, ` +
          `rss ${result.rssBeforeMiB.toFixed(0)} -> ${result.rssAfterMiB.toFixed(0)} MiB, ` +
          `usage ${result.usageMatched ? 'exact' : 'WRONG'}`,
      );
    }
  }

  const estimator = {
    defaultOutputTokens: 1024,
    defaultInputTokens: 1024,
    tokenizeMaxChars: 32768,
  };
  measureTokenEstimation(4, estimator); // warm-up
  for (const kib of [1, 10, 100]) {
    const result = measureTokenEstimation(kib, estimator);
    console.log(
      `prompt token estimation ${result.bodyKiB.toFixed(0)} KiB body: ` +
        `${result.microsPerRequest.toFixed(0)} µs/request, ` +
        `${result.microsPerKiB.toFixed(0)} µs/KiB ` +
        `(${result.inputTokens} input tokens, tokenize_max_chars 32768)`,
    );
  }

  measureBreakerDecision(); // warm-up
  const breaker = measureBreakerDecision();
  console.log(
    `breaker decision (get, acquire, settle): ${breaker.nanosPerDecision.toFixed(0)} ns, ` +
      `${(breaker.decisionsPerSecond / 1e6).toFixed(1)} M/s`,
  );

  for (const budget of await measureBudgetDecisions()) {
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

  for (const latency of await measureEdsPushLatency()) {
    console.log(
      `eds push latency, ${latency.scenario}: p50 ${latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${latency.p99Ms.toFixed(2)} ms, max ${latency.maxMs.toFixed(2)} ms ` +
        `(${latency.samples} changes)`,
    );
  }
}

await main();
