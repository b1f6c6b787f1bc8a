import { createLogger } from '../../src/admin/logger.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { startTollgate, type RunningTollgate } from '../../src/tollgate.js';
import { SwitchableBackend } from '../../test/helpers/switchable-backend.js';
import {
  edsClient,
  sotwAck,
  sotwRequest,
  XdsStream,
  type EdsClient,
  type SotwStream,
} from '../../test/helpers/xds-client.js';

/** Milliseconds from a health change to its EDS push, over many changes. */
export interface PushLatency {
  readonly scenario: string;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const SERVER = 'server:\n  grpc_address: 127.0.0.1:0\n  admin_address: 127.0.0.1:0\n';

/**
 * Times health changes to EDS pushes received by real gRPC subscribers over
 * loopback, with tollgate in this process:
 *
 * - a breaker named like an endpoint opened or reset, to the push arriving
 *   at the first and at the last of `subscribers` streams;
 * - a backend's first failing (or first healthy) probe answer written, to
 *   the push arriving, with a 50 ms probe interval and thresholds of 1: the
 *   probe client reading the answer, the round, the evaluation and the push.
 */
export async function measureEdsPushLatency(subscribers = 10): Promise<PushLatency[]> {
  return [...(await breakerLatency(subscribers, 400)), ...(await probeLatency(40))];
}

async function breakerLatency(subscribers: number, flips: number): Promise<PushLatency[]> {
  const yaml =
    SERVER +
    'circuit_breakers:\n  upstreams:\n    127.0.0.1:9001:\n' +
    'clusters:\n  - name: llm\n    endpoints:\n' +
    '      - { address: 127.0.0.1, port: 9001 }\n      - { address: 127.0.0.1, port: 9002 }\n';
  const { tollgate, client } = await start(yaml);
  const streams = await Promise.all(
    Array.from({ length: subscribers }, () => subscribe(client, 'llm')),
  );
  const breaker = tollgate.breakers.find('127.0.0.1:9001')!;
  const first: number[] = [];
  const last: number[] = [];

  try {
    for (let i = 0; i < flips; i++) {
      const started = performance.now();
      if (i % 2 === 0) breaker.forceOpen();
      else breaker.reset();

      const arrivals = await Promise.all(
        streams.map((s) => s.next().then(() => performance.now())),
      );
      first.push(Math.min(...arrivals) - started);
      last.push(Math.max(...arrivals) - started);
    }
  } finally {
    client.close();
    await tollgate.stop();
  }
  return [
    summarise(`breaker flip -> push, first of ${subscribers} subscribers`, first),
    summarise(`breaker flip -> push, last of ${subscribers} subscribers`, last),
  ];
}

async function probeLatency(flips: number): Promise<PushLatency[]> {
  const [flaky, steady] = [await SwitchableBackend.start(), await SwitchableBackend.start()];
  const yaml =
    SERVER +
    'clusters:\n  - name: llm\n    endpoints:\n' +
    `      - { address: 127.0.0.1, port: ${flaky.port} }\n` +
    `      - { address: 127.0.0.1, port: ${steady.port} }\n` +
    '    checks:\n      interval: 50ms\n      interval_jitter_percent: 0\n' +
    '      healthy_threshold: 1\n      unhealthy_threshold: 1\n' +
    '      inference_probe: { model: m }\n';
  const { tollgate, client } = await start(yaml);
  const samples: number[] = [];
  const fromSwitch: number[] = [];

  try {
    const stream = await subscribe(client, 'llm');
    while (!(await stream.quiet(300))) {
      // Skip the pushes of the first rounds (UNKNOWN, then HEALTHY).
    }
    for (let i = 0; i < flips; i++) {
      const healthy = i % 2 === 1;
      let answered: number | undefined;
      flaky.onAnswer = (wasHealthy) => {
        if (wasHealthy === healthy) answered ??= performance.now();
      };
      const switched = performance.now();
      flaky.switchTo(healthy);

      await stream.next(5000);
      const arrived = performance.now();
      fromSwitch.push(arrived - switched);
      if (answered !== undefined) samples.push(arrived - answered);
    }
  } finally {
    client.close();
    await tollgate.stop();
    await Promise.all([flaky.stop(), steady.stop()]);
  }
  return [
    summarise('probe answer written -> push (50 ms interval, thresholds 1)', samples),
    summarise('backend switched -> push (50 ms interval, thresholds 1)', fromSwitch),
  ];
}

async function start(yaml: string): Promise<{ tollgate: RunningTollgate; client: EdsClient }> {
  const parsed = parseConfigText(yaml, 'bench.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));

  const logger = createLogger('error', { write: () => undefined });
  const tollgate = await startTollgate(parsed.config, { logger });
  return { tollgate, client: edsClient(tollgate.grpcPort) };
}

async function subscribe(client: EdsClient, name: string): Promise<SotwStream> {
  const stream: SotwStream = new XdsStream(client.StreamEndpoints());
  const first = await stream.exchange(sotwRequest([name], { node: true }));
  stream.send(sotwAck(first, [name]));
  return stream;
}

function summarise(scenario: string, samples: number[]): PushLatency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    scenario,
    samples: sorted.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
