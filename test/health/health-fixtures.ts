import assert from 'node:assert/strict';

import type { BreakerSet } from '../../src/breaker/breaker-set.js';
import {
  compileClusters,
  endpointKey,
  type ClusterHealthConfig,
  type EndpointConfig,
} from '../../src/health/health-config.js';
import type { RoundFinished } from '../../src/health/health-events.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { clustersSchema } from '../../src/health/health-schema.js';
import { ProbeClient, type ProbeClientOptions } from '../../src/health/probe-client.js';
import { systemClock, type Clock } from '../../src/time/clock.js';
import type { FakeClock } from '../helpers/fake-clock.js';
import { LogSink } from '../helpers/log-sink.js';

/** Where the config file of a compiled test cluster is said to live. */
export const CONFIG_FILE = '/etc/tollgate/tollgate.yaml';

/**
 * Validates and compiles `clusters:` entries written as in the YAML file
 * (snake_case keys), failing the test with every problem if they are invalid.
 */
export function compileTestClusters(entries: unknown[]): readonly ClusterHealthConfig[] {
  const parsed = clustersSchema.safeParse(entries);
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
  return compileClusters(parsed.data, CONFIG_FILE);
}

/** {@link compileTestClusters} for one entry. */
export function compileTestCluster(entry: unknown): ClusterHealthConfig {
  return compileTestClusters([entry])[0]!;
}

/** A `127.0.0.1` endpoint entry. */
export function loopback(port: number, extra: Record<string, unknown> = {}) {
  return { address: '127.0.0.1', port, ...extra };
}

/** The `/health`, metrics and breaker name of a loopback endpoint. */
export function keyOf(port: number): string {
  return endpointKey('127.0.0.1', port);
}

/** A plain HTTP endpoint config for the probe client. */
export function endpointConfig(port: number, extra: Partial<EndpointConfig> = {}): EndpointConfig {
  return {
    key: keyOf(port),
    address: '127.0.0.1',
    port,
    scheme: 'http',
    priority: 0,
    weight: 100,
    ...extra,
  };
}

/** A probe client of a loopback port, with a 64 KiB body cap unless overridden. */
export function clientFor(
  port: number,
  options: Partial<ProbeClientOptions> = {},
  endpoint: Partial<EndpointConfig> = {},
): ProbeClient {
  return new ProbeClient({
    endpoint: endpointConfig(port, endpoint),
    maxBodyBytes: 64 * 1024,
    headers: {},
    clock: systemClock,
    ...options,
  });
}

/** A monitor over `clusters`, logging into a sink, with no jitter unless `random` says. */
export async function startMonitor(
  clusters: readonly ClusterHealthConfig[],
  options: { clock?: Clock; breakers?: BreakerSet; random?: () => number } = {},
) {
  const logs = new LogSink();
  const monitor = new HealthMonitor({
    logger: logs.logger,
    clock: options.clock ?? systemClock,
    breakers: options.breakers,
    random: options.random ?? (() => 0),
  });
  await monitor.prepareOrThrow(clusters)();
  monitor.start();
  return { monitor, logs };
}

/** The next round of `endpoint` (of any endpoint when unset) that the monitor finishes. */
export function nextRound(monitor: HealthMonitor, endpoint?: string): Promise<RoundFinished> {
  return new Promise((resolve) => {
    const stop = monitor.events.roundFinished.subscribe((event) => {
      if (endpoint !== undefined && event.endpoint !== endpoint) return;
      stop();
      resolve(event);
    });
  });
}

/** Lets the monitor's batched evaluation (a microtask) and pending I/O callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Moves a fake clock by `ms` (firing the round timer of `endpoint`) and
 * waits until that round has finished and its cluster has been evaluated.
 */
export async function stepRound(
  clock: FakeClock,
  monitor: HealthMonitor,
  endpoint: string,
  ms: number,
): Promise<RoundFinished> {
  const round = nextRound(monitor, endpoint);
  clock.advance(ms);
  const finished = await round;
  await settle();
  return finished;
}

/**
 * Moves a fake clock by `ms` (0: the first rounds, due at once with no
 * jitter) and waits until each of `endpoints` has finished a round.
 */
export async function roundsOf(
  clock: FakeClock,
  monitor: HealthMonitor,
  endpoints: readonly string[],
  ms = 0,
): Promise<void> {
  const rounds = Promise.all(endpoints.map((endpoint) => nextRound(monitor, endpoint)));
  clock.advance(ms);
  await rounds;
  await settle();
}

/** The published state of one endpoint of a cluster. */
export function published(monitor: HealthMonitor, cluster: string, endpoint: string) {
  const found = monitor.evaluation(cluster)?.endpoints.find((e) => e.config.key === endpoint);
  assert.ok(found, `no endpoint ${endpoint} in cluster ${cluster}`);
  return found;
}
