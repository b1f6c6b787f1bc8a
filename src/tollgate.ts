import type { Logger } from 'pino';

import { AdminServer } from './admin/admin-server.js';
import { createMetricsRegistry } from './admin/metrics.js';
import { observeBreakerLogs, observeBreakerMetrics } from './breaker/breaker-observers.js';
import { BreakerSet } from './breaker/breaker-set.js';
import type { TollgateConfig } from './config/tollgate-config.js';
import { DecisionEngine } from './engine/decision-engine.js';
import { envoyService } from './services/envoy-protos.js';
import { ExtProcService } from './services/ext-proc/ext-proc-service.js';
import { EXT_PROC_SERVICE, GrpcServer } from './services/grpc-server.js';
import { systemClock, type Clock } from './time/clock.js';

/** A running tollgate: its bound ports and a way to stop it. */
export interface RunningTollgate {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly breakers: BreakerSet;
  /** Drains the gRPC port (up to the configured timeout) and closes the admin port. */
  stop(): Promise<{ drained: boolean }>;
}

/** Runtime collaborators; tests replace the clock and the log sink. */
export interface TollgateRuntime {
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * Builds every component from a validated config and starts both listeners.
 * Throws if a listener cannot bind; nothing is left running in that case.
 */
export async function startTollgate(
  config: TollgateConfig,
  runtime: TollgateRuntime,
): Promise<RunningTollgate> {
  const { logger } = runtime;
  const metrics = createMetricsRegistry();
  const breakers = new BreakerSet({
    defaults: config.breakers.defaults,
    perUpstream: config.breakers.upstreams,
    maxDynamic: config.breakers.maxDynamic,
    clock: runtime.clock ?? systemClock,
  });
  observeBreakerMetrics(breakers.events, () => breakers, metrics);
  observeBreakerLogs(breakers.events, logger);

  const engine = new DecisionEngine(config, breakers, metrics);
  const extProc = new ExtProcService({ engine: () => engine, logger, metrics });
  const grpc = new GrpcServer({
    address: config.server.grpcAddress,
    maxMessageBytes: config.server.maxMessageBytes,
    tls: config.server.tls,
    services: [
      {
        name: EXT_PROC_SERVICE,
        definition: ExtProcService.definition(envoyService(EXT_PROC_SERVICE)),
        implementation: extProc.implementation(),
      },
    ],
  });

  let draining = false;
  const admin = new AdminServer({
    metrics,
    breakers: () => breakers,
    isReady: () => !draining && grpc.port !== undefined,
    status: () => ({
      config: config.source,
      draining,
      breakers: breakers.list().map((breaker) => breaker.snapshot()),
    }),
    logger,
  });

  const grpcPort = await grpc.start();
  let adminPort: number;
  try {
    adminPort = await admin.start(config.server.adminAddress);
  } catch (error) {
    await grpc.drain(0);
    throw error;
  }
  logger.info(
    { grpc: config.server.grpcAddress, grpcPort, admin: config.server.adminAddress, adminPort },
    'tollgate is serving',
  );

  return {
    grpcPort,
    adminPort,
    breakers,
    async stop() {
      draining = true;
      const drained = await grpc.drain(config.server.drainTimeoutSeconds * 1000);
      await admin.stop();
      breakers.dispose();
      return { drained };
    },
  };
}
