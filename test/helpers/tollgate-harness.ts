import { parseConfigText } from '../../src/config/load-config.js';
import type { TollgateConfig } from '../../src/config/tollgate-config.js';
import type { Clock } from '../../src/time/clock.js';
import { startTollgate, type RunningTollgate } from '../../src/tollgate.js';
import { EnvoyStream, extProcClient } from './envoy-client.js';
import { LogSink } from './log-sink.js';

/** A tollgate running in this process on free loopback ports, with its log in memory. */
export interface TestTollgate {
  readonly tollgate: RunningTollgate;
  readonly logs: LogSink;
  readonly config: TollgateConfig;
  /** Opens a new ext_proc stream, as Envoy does for each HTTP request. */
  stream(): EnvoyStream;
  /** GETs or POSTs a path on the admin port. */
  admin(path: string, method?: 'GET' | 'POST'): Promise<{ status: number; text: string }>;
  /** Closes the test's ext_proc client and stops tollgate; resolves with whether it drained. */
  stop(): Promise<{ drained: boolean }>;
}

/** Parses YAML config text for a test; fails the test with every problem if invalid. */
export function testConfig(yaml: string): TollgateConfig {
  const result = parseConfigText(yaml, 'test.yaml');
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

/** How a test tollgate runs beyond its config. */
export interface TestTollgateOptions {
  readonly clock?: Clock;
  /** The level of the in-memory log; debug unless set. */
  readonly logLevel?: string;
}

/**
 * Starts tollgate with `yaml` (listen addresses forced to port 0 unless the
 * YAML sets a `server:` section itself).
 */
export async function startTestTollgate(
  yaml = '',
  options: TestTollgateOptions = {},
): Promise<TestTollgate> {
  const server = yaml.includes('server:')
    ? ''
    : 'server:\n  grpc_address: 127.0.0.1:0\n  admin_address: 127.0.0.1:0\n' +
      '  drain_timeout_seconds: 2\n';
  const config = testConfig(server + yaml);
  const logs = new LogSink(options.logLevel);
  const tollgate = await startTollgate(config, { logger: logs.logger, clock: options.clock });
  const client = extProcClient(tollgate.grpcPort);

  return {
    tollgate,
    logs,
    config,
    stream: () => new EnvoyStream(client),
    async admin(path, method = 'GET') {
      const response = await fetch(`http://127.0.0.1:${tollgate.adminPort}${path}`, { method });
      return { status: response.status, text: await response.text() };
    },
    async stop() {
      client.close();
      return tollgate.stop();
    },
  };
}
