import { Command, InvalidArgumentError } from 'commander';

import type { ResponseMode } from './envoy-exchange.js';
import { LoadDriver } from './load-driver.js';

interface Flags {
  target: string;
  concurrency: number;
  duration?: number;
  requests?: number;
  mode: ResponseMode;
  timeLimit?: number;
}

function positive(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError('expected a number above 0');
  return number;
}

function mode(value: string): ResponseMode {
  if (value !== 'json' && value !== 'sse') throw new InvalidArgumentError('expected json or sse');
  return value;
}

/**
 * Drives one already running ext_proc server (tollgate, or the floor) with
 * Envoy-like streams and prints what it measured as JSON. `npm run bench`
 * does not need this: it starts its own servers. Example:
 * `node dist/bench/load/drive.js --target 127.0.0.1:50051 --concurrency 16 --duration 5`
 */
async function main(): Promise<void> {
  const flags = new Command('bench-drive')
    .description('Envoy-like ext_proc load against a server on loopback')
    .option('--target <host:port>', 'the ext_proc server (loopback only)', '127.0.0.1:50051')
    .option('--concurrency <n>', 'simulated requests in flight', positive, 16)
    .option('--duration <seconds>', 'stop starting requests after this long', positive)
    .option('--requests <n>', 'stop after this many requests', positive)
    .option('--mode <mode>', 'response body: json or sse', mode, 'json' as ResponseMode)
    .option('--time-limit <seconds>', 'hard bound; open streams are then cancelled', positive)
    .showHelpAfterError()
    .parse(process.argv)
    .opts<Flags>();

  const driver = new LoadDriver(flags.target);
  try {
    const result = await driver.run({
      concurrency: Math.round(flags.concurrency),
      mode: flags.mode,
      durationSeconds: flags.duration ?? (flags.requests === undefined ? 5 : undefined),
      requests: flags.requests,
      timeLimitSeconds: flags.timeLimit,
    });
    console.log(JSON.stringify(result, null, 2));
    if (result.errors > 0) process.exitCode = 1;
  } finally {
    driver.close();
  }
}

main().catch((error: unknown) => {
  console.error(`bench driver failed: ${(error as Error).message}`);
  process.exit(1);
});
