import { EnvoyStream, extProcClient } from '../../test/helpers/envoy-client.js';
import {
  benchRequestHeaders,
  exchangeMessages,
  playBenchExchange,
  type ResponseMode,
} from './envoy-exchange.js';
import { summariseLatencies, type LatencySummary } from './latency-summary.js';

/** One load run: how many simulated requests at once, for how long, of which kind. */
export interface LoadOptions {
  /** Simulated HTTP requests in flight at once (each its own ext_proc stream). */
  readonly concurrency: number;
  readonly mode: ResponseMode;
  /** Stop starting requests after this many seconds. */
  readonly durationSeconds?: number;
  /** Stop after starting this many requests. */
  readonly requests?: number;
  /**
   * Hard bound on the whole run: streams still open then are cancelled and
   * counted as errors. Defaults to the duration plus 10 s, or 60 s.
   */
  readonly timeLimitSeconds?: number;
}

/** What one load run measured, from the driver's side. */
export interface LoadResult {
  /** Simulated requests that completed without error. */
  readonly requests: number;
  readonly errors: number;
  /** Up to five distinct error reasons, for the report. */
  readonly errorSamples: readonly string[];
  readonly elapsedSeconds: number;
  readonly requestsPerSecond: number;
  /** Whole-exchange latency (first message sent to stream status), successful requests. */
  readonly latencyMs: LatencySummary;
  /** CPU time the driver process used per request, in microseconds. */
  readonly driverCpuPerRequestUs: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/**
 * The port of a loopback `HOST:PORT` (or bare `PORT`) target. The driver only
 * loads loopback servers: a bench must not be pointed at someone else's host.
 */
export function loopbackPort(target: string): number {
  const colon = target.lastIndexOf(':');
  const host = colon < 0 ? '127.0.0.1' : target.slice(0, colon);
  const port = Number(colon < 0 ? target : target.slice(colon + 1));

  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`target ${target} is not on loopback: use 127.0.0.1:PORT`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`target ${target} has no valid port: use 127.0.0.1:PORT`);
  }
  return port;
}

function checkOptions(options: LoadOptions): void {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`concurrency must be a whole number ≥ 1, not ${options.concurrency}`);
  }
  if (options.durationSeconds === undefined && options.requests === undefined) {
    throw new Error('give a duration or a request count, or the run would never end');
  }
}

/**
 * An Envoy-like ext_proc client for one server: one gRPC channel (one HTTP/2
 * connection, as an Envoy worker keeps to its ext_proc cluster) that opens a
 * stream per simulated request.
 */
export class LoadDriver {
  private readonly client: ReturnType<typeof extProcClient>;
  private sequence = 0;
  private completed = 0;

  constructor(readonly target: string) {
    this.client = extProcClient(loopbackPort(target));
  }

  /** Simulated requests this driver has completed so far, warm-up included, errors not. */
  get completedRequests(): number {
    return this.completed;
  }

  /** Runs `concurrency` request loops until the duration or request count is reached. */
  async run(options: LoadOptions): Promise<LoadResult> {
    checkOptions(options);
    const messages = exchangeMessages(options.mode);
    const latencies: number[] = [];
    const errorReasons = new Set<string>();
    const open = new Set<EnvoyStream>();
    let errors = 0;
    let started = 0;

    const startedAt = performance.now();
    const stopAt = startedAt + (options.durationSeconds ?? Infinity) * 1000;
    const limitSeconds = options.timeLimitSeconds ?? (options.durationSeconds ?? 50) + 10;
    let expired = false;
    const limit = setTimeout(() => {
      expired = true;
      open.forEach((stream) => void stream.cancel());
    }, limitSeconds * 1000);
    const cpuBefore = process.cpuUsage();

    const mayStart = () =>
      !expired &&
      performance.now() < stopAt &&
      (options.requests === undefined || started < options.requests);

    const loop = async () => {
      while (mayStart()) {
        started++;
        const headers = benchRequestHeaders(options.mode, this.sequence++);
        const begin = performance.now();
        const stream = new EnvoyStream(this.client);
        open.add(stream);
        const outcome = await playBenchExchange(stream, headers, messages).catch(
          (error: unknown) => ({ ok: false as const, reason: String(error) }),
        );
        open.delete(stream);

        if (outcome.ok) {
          latencies.push(performance.now() - begin);
          this.completed++;
        } else {
          errors++;
          if (errorReasons.size < 5) errorReasons.add(outcome.reason);
        }
      }
    };

    await Promise.all(Array.from({ length: options.concurrency }, loop));
    clearTimeout(limit);

    const elapsedSeconds = (performance.now() - startedAt) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      requests: latencies.length,
      errors,
      errorSamples: [...errorReasons],
      elapsedSeconds,
      requestsPerSecond: latencies.length / elapsedSeconds,
      latencyMs: summariseLatencies(latencies),
      driverCpuPerRequestUs: (cpu.user + cpu.system) / Math.max(started, 1),
    };
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}
