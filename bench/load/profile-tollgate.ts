import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, InvalidArgumentError } from 'commander';

import { listBenchConfigs, prepareConfig } from './bench-configs.js';
import { BenchServer, NOOP_SERVER, TOLLGATE_MAIN, type ServerLaunch } from './bench-server.js';
import { summariseCpuProfile } from './cpu-profile-summary.js';
import type { ResponseMode } from './envoy-exchange.js';
import { FLOOR } from './load-bench.js';
import { LoadDriver } from './load-driver.js';
import { findRedisServer, RedisServer } from '../../test/helpers/redis-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Flags {
  config: string;
  mode: ResponseMode;
  concurrency: number;
  seconds: number;
  top: number;
  out: string;
}

function positive(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError('expected a number above 0');
  return number;
}

function parseFlags(argv: string[]): Flags {
  return new Command('bench-profile')
    .description('runs tollgate under node --cpu-prof with bench load and lists its hot spots')
    .option('--config <name>', 'configuration in bench/configs/, or floor', 'full')
    .option('--mode <mode>', 'json or sse', 'json')
    .option('--concurrency <n>', 'simulated requests in flight', positive, 16)
    .option('--seconds <s>', 'profiled load', positive, 10)
    .option('--top <n>', 'functions listed', positive, 25)
    .option('--out <dir>', 'where the .cpuprofile goes', path.join(REPO_ROOT, '.bench-results'))
    .showHelpAfterError()
    .parse(argv)
    .opts<Flags>();
}

function newestProfile(dir: string): string {
  const profiles = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => path.join(dir, file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!profiles[0]) throw new Error(`tollgate exited without writing a profile into ${dir}`);
  return profiles[0];
}

const percent = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;

interface Launched {
  readonly launch: ServerLaunch;
  readonly redis?: RedisServer;
}

/** How to start the server named by `--config`: a bench configuration, or `floor`. */
async function launchOf(name: string, tmp: string, nodeFlags: string[]): Promise<Launched> {
  if (name === FLOOR) {
    return { launch: { name: 'no-op floor', script: NOOP_SERVER, args: [], nodeFlags } };
  }

  const config = listBenchConfigs().find((candidate) => candidate.name === name);
  if (!config) throw new Error(`no bench/configs/${name}.yaml (or use --config floor)`);
  const executable = config.needsRedis ? findRedisServer() : undefined;
  if (config.needsRedis && !executable) throw new Error('redis-server is not installed');
  const redis = executable ? await RedisServer.start(executable) : undefined;

  const prepared = prepareConfig(config, { benchTmp: tmp, redisUrl: redis?.url });
  if (!prepared.ok) {
    await redis?.stop();
    throw new Error(`${config.name} cannot run: ${prepared.reason}`);
  }
  const args = [
    '--config',
    prepared.file,
    '--grpc-address',
    '127.0.0.1:0',
    '--admin-address',
    '127.0.0.1:0',
  ];
  return { launch: { name: `tollgate (${name})`, script: TOLLGATE_MAIN, args, nodeFlags }, redis };
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Profiles one configuration (or the floor): the server runs under
 * `--cpu-prof`, is warmed up and loaded for `--seconds`, then stopped (it
 * writes the profile as it exits); the self time of the measured load only is
 * printed by function (mapped to the `.ts` line) and by file. Use it to find
 * what to fix when a bench target is missed.
 */
async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const profileDir = path.join(flags.out, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const tmp = mkdtempSync(path.join(tmpdir(), 'tollgate-profile-'));
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const { launch, redis } = await launchOf(flags.config, tmp, nodeFlags);

  try {
    const server = await BenchServer.start(launch);
    const driver = new LoadDriver(server.target);
    const concurrency = Math.round(flags.concurrency);
    await driver.run({ mode: flags.mode, concurrency, durationSeconds: 2 });

    const fromMicros = monotonicMicros();
    const result = await driver.run({
      mode: flags.mode,
      concurrency,
      durationSeconds: flags.seconds,
    });
    const toMicros = monotonicMicros();
    driver.close();
    await server.stop(15_000);

    const profile = newestProfile(profileDir);
    const summary = summariseCpuProfile(profile, REPO_ROOT, { fromMicros, toMicros });
    console.log(
      `${flags.config}, ${flags.mode}, concurrency ${concurrency}: ${result.requests} requests, ` +
        `${result.requestsPerSecond.toFixed(0)} req/s, ${result.errors} errors; ` +
        `profile ${path.relative(process.cwd(), profile)}; ${summary.busyMs.toFixed(0)} ms ` +
        'busy during the measured load (start-up and warm-up left out), ' +
        `${((summary.busyMs * 1000) / Math.max(result.requests, 1)).toFixed(0)} µs per request\n`,
    );
    console.log('self time by function:');
    for (const spot of summary.functions.slice(0, flags.top)) {
      console.log(`${percent(spot.selfShare)}  ${spot.name}  ${spot.location}`);
    }
    console.log('\nself time by file:');
    for (const file of summary.files.slice(0, flags.top)) {
      console.log(`${percent(file.selfShare)}  ${file.file}`);
    }
  } finally {
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`profiling failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
