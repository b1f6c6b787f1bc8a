import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from 'pino';

import { AdminServer } from './admin/admin-server.js';
import { budgetRoutes } from './admin/budget-routes.js';
import { createMetricsRegistry } from './admin/metrics.js';
import { observeBreakerLogs, observeBreakerMetrics } from './breaker/breaker-observers.js';
import { BreakerSet } from './breaker/breaker-set.js';
import { BudgetLedger } from './budget/budget-ledger.js';
import { openBudgetStore } from './budget/open-budget-store.js';
import type { ReloadOutcome } from './config/reload-controller.js';
import { LiveConfig } from './config/reload-live-config.js';
import { ConfigReloadService, type ConfigReloadSettings } from './config/reload-service.js';
import type { TollgateConfig } from './config/tollgate-config.js';
import { DecisionEngine } from './engine/decision-engine.js';
import { HealthMonitor } from './health/health-monitor.js';
import { PolicyRegistries, type PolicySnapshot } from './policy/policy-registries.js';
import { describeResolution } from './policy/policy-resolution.js';
import { observeHealthLogs, observeHealthMetrics } from './health/health-observers.js';
import { healthRoutes } from './health/health-routes.js';
import { EndpointDiscovery } from './services/eds/endpoint-discovery.js';
import { envoyService } from './services/envoy-protos.js';
import { EXT_AUTHZ_SERVICE, ExtAuthzService } from './services/ext-authz/ext-authz-service.js';
import { ExtProcService } from './services/ext-proc/ext-proc-service.js';
import { EXT_PROC_SERVICE, GrpcServer } from './services/grpc-server.js';
import { systemClock, type Clock } from './time/clock.js';

/** How long shutdown waits for queued budget alerts to reach the webhook. */
const ALERT_DRAIN_MS = 2000;

/** A running tollgate: its bound ports and a way to stop it. */
export interface RunningTollgate {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly breakers: BreakerSet;
  /** Re-reads the config file now (SIGHUP); undefined when started without `runtime.reload`. */
  reloadConfig(): Promise<ReloadOutcome | undefined>;
  /** Makes a validated config live for new streams, as a reload does. Throws if it cannot. */
  applyConfig(config: TollgateConfig): void;
  /** Drains the gRPC port (up to the configured timeout) and closes the admin port. */
  stop(): Promise<{ drained: boolean }>;
}

/** Runtime collaborators; tests replace the clock and the log sink. */
export interface TollgateRuntime {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Hot reload of the config file; without it the config is fixed for the process's life. */
  readonly reload?: ConfigReloadSettings;
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
    scoped: config.breakers.scoped,
    maxDynamic: config.breakers.maxDynamic,
    clock: runtime.clock ?? systemClock,
  });
  observeBreakerMetrics(breakers.events, () => breakers, metrics);
  observeBreakerLogs(breakers.events, logger);

  // Endpoints are probed off the request path and published over EDS. A CA
  // bundle that cannot be read stops start-up here, before anything listens.
  const health = new HealthMonitor({ logger, breakers, clock: runtime.clock });
  observeHealthMetrics(health, metrics);
  observeHealthLogs(health, logger);
  await health.prepareOrThrow(config.clusters)();
  const discovery = new EndpointDiscovery({ monitor: health, logger, metrics });

  // The store is opened once; each applied config gets a ledger on it, so a
  // reload changes limits without touching the usage already counted.
  const budgetStore = config.budgets.enabled
    ? await openBudgetStore(config.budgets, logger)
    : undefined;
  const ledgerFor = (current: TollgateConfig, policies: PolicySnapshot) =>
    budgetStore && current.budgets.enabled
      ? new BudgetLedger({
          config: current.budgets,
          store: budgetStore,
          logger,
          metrics,
          clock: runtime.clock,
          ownsStore: false,
          rules: policies.budgets,
        })
      : undefined;

  // Each stream reads the engine once, at its start; a reload swaps in a new
  // one, built on a snapshot of the scoped policies that reload made live.
  const live = new LiveConfig({
    initial: config,
    breakers,
    policies: new PolicyRegistries(),
    logger,
    buildEngine: (current, policies) => {
      const ledger = ledgerFor(current, policies);
      const budgets = ledger && { ledger, logger, clock: runtime.clock };
      return new DecisionEngine(current, breakers, metrics, budgets, policies);
    },
  });
  // Clusters are checked before anything changes. Endpoints that stay keep
  // their probe state, and EDS subscribers stay connected through a reload.
  const applyLive = (next: TollgateConfig) => {
    const applyClusters = health.prepareOrThrow(next.clusters);
    live.apply(next);
    return applyClusters();
  };
  const reloads =
    runtime.reload &&
    new ConfigReloadService(runtime.reload, {
      initial: config,
      apply: (next) => applyLive(next),
      logger,
      metrics,
      clock: runtime.clock,
    });
  const extProc = new ExtProcService({ engine: () => live.engine, logger, metrics });
  const extAuthz = new ExtAuthzService({ engine: () => live.engine, logger, metrics });
  const grpc = new GrpcServer({
    address: config.server.grpcAddress,
    maxMessageBytes: config.server.maxMessageBytes,
    tls: config.server.tls,
    logger,
    services: [
      {
        name: EXT_PROC_SERVICE,
        definition: ExtProcService.definition(envoyService(EXT_PROC_SERVICE)),
        implementation: extProc.implementation(),
      },
      {
        name: EXT_AUTHZ_SERVICE,
        definition: envoyService(EXT_AUTHZ_SERVICE),
        implementation: extAuthz.implementation(),
      },
      ...discovery.services(),
    ],
  });

  let draining = false;
  const admin = new AdminServer({
    metrics,
    breakers: () => breakers,
    isReady: () => !draining && grpc.port !== undefined,
    auth: () => live.config.server.adminAuth,
    status: (scope) => ({
      config: live.config.source,
      reload: reloads?.status(),
      draining,
      namespaces: live.config.namespaces,
      breakers: breakers.list().map((breaker) => breaker.snapshot()),
      ...(scope && {
        scope,
        resolution: describeResolution(live.engine.policies, scope),
      }),
    }),
    logger,
    routes: [
      ...budgetRoutes(() => live.engine.budgetLedger, logger),
      ...healthRoutes(() => health),
    ],
  });

  // Alerts raised by the last responses get a short while to reach the
  // webhook; whatever is still queued after it is dropped (and was logged).
  const closeStores = async () => {
    const ledger = live.engine.budgetLedger;
    await Promise.race([ledger?.alertsSent(), sleep(ALERT_DRAIN_MS, undefined, { ref: false })]);
    await ledger?.close();
    await budgetStore?.close();
  };
  const grpcPort = await grpc.start().catch(async (error: unknown) => {
    await closeStores();
    throw error;
  });
  let adminPort: number;
  try {
    adminPort = await admin.start(config.server.adminAddress);
  } catch (error) {
    await grpc.drain(0);
    await closeStores();
    throw error;
  }
  logger.info(
    { grpc: config.server.grpcAddress, grpcPort, admin: config.server.adminAddress, adminPort },
    'tollgate is serving',
  );
  reloads?.start();
  health.start();

  return {
    grpcPort,
    adminPort,
    breakers,
    reloadConfig: async () => reloads?.reload('signal'),
    applyConfig: (next) => void applyLive(next),
    async stop() {
      draining = true;
      reloads?.stop();
      // EDS streams last as long as Envoy: end them first, or the drain waits them out.
      discovery.stop();
      const drained = await grpc.drain(live.config.server.drainTimeoutSeconds * 1000);
      await admin.stop();
      await health.stop();
      await closeStores();
      breakers.dispose();
      return { drained };
    },
  };
}
