import { Command, InvalidArgumentError } from 'commander';

import { soakFuzz } from './soak-fuzz.js';
import { soakRedis } from './soak-redis.js';
import type { SoakReport } from './soak-report.js';
import { soakStorm } from './soak-storm.js';

interface Flags {
  rounds: number;
  streams: number;
  fuzz: number;
  seed: number;
  freezes: number;
}

function whole(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected 1 or more');
  return number;
}

function parseFlags(argv: string[]): Flags {
  return new Command('soak')
    .description('npm run soak: the CI fault tests, longer, with the same leak checks')
    .option('--rounds <n>', 'cancel storm rounds', whole, 20)
    .option('--streams <n>', 'streams per storm round', whole, 10_000)
    .option('--fuzz <n>', 'fuzzed ext_proc streams', whole, 30_000)
    .option('--seed <n>', 'fast-check seed', whole, Date.now() % 1_000_000)
    .option('--freezes <n>', 'times Redis is frozen under load', whole, 8)
    .showHelpAfterError()
    .parse(argv)
    .opts<Flags>();
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const started = performance.now();
  const reports: SoakReport[] = [];
  const run = async (phase: () => Promise<SoakReport>) => {
    const report = await phase();
    console.log(report.lines().join('\n'));
    reports.push(report);
  };

  await run(() => soakStorm(flags.rounds, flags.streams));
  await run(() => soakFuzz(flags.fuzz, flags.seed));
  await run(() => soakRedis(flags.freezes));

  const failed = reports.filter((report) => report.problems.length > 0);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(
    `soak: ${reports.length - failed.length}/${reports.length} phases ok in ${minutes} min`,
  );
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
