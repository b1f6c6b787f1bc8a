import { measureSseExtraction } from './sse-extraction.js';

const MB = 1_000_000;

/** Runs the micro-benchmarks and prints one line per measurement. */
function main(): void {
  measureSseExtraction(8 * MB); // warm-up, so that the 1 MB run is not a JIT measurement

  for (const size of [1 * MB, 100 * MB]) {
    const result = measureSseExtraction(size);
    console.log(
      `sse usage extraction ${(result.streamBytes / MB).toFixed(0)} MB: ` +
        `${result.megabytesPerSecond.toFixed(0)} MB/s, ` +
        `rss ${result.rssBeforeMiB.toFixed(0)} -> ${result.rssAfterMiB.toFixed(0)} MiB, ` +
        `usage ${result.usageMatched ? 'exact' : 'WRONG'}`,
    );
  }
}

main();
