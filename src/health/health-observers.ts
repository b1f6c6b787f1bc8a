import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { HealthMonitor } from './health-monitor.js';
import type { HealthStatus } from './health-status.js';

const GAUGE_VALUE: Record<HealthStatus, number> = { HEALTHY: 1, DEGRADED: 0.5, UNHEALTHY: 0 };

/**
 * Publishes the health metrics. The status gauge is read at scrape time from
 * the latest evaluations, so endpoints removed by a reload disappear from it;
 * probe durations and failures follow the rounds.
 */
export function observeHealthMetrics(monitor: HealthMonitor, registry: Registry): void {
  new Gauge({
    name: 'tollgate_endpoint_health',
    help: 'Published endpoint health: 1 HEALTHY, 0.5 DEGRADED, 0 UNHEALTHY',
    labelNames: ['cluster', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const evaluation of monitor.allEvaluations()) {
        for (const endpoint of evaluation.endpoints) {
          const labels = { cluster: evaluation.cluster, endpoint: endpoint.config.key };
          this.set(labels, GAUGE_VALUE[endpoint.status]);
        }
      }
    },
  });

  const durations = new Histogram({
    name: 'tollgate_probe_duration_seconds',
    help: 'Time spent on the requests of one check in one probe round',
    labelNames: ['check'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'tollgate_probe_failures_total',
    help: 'Checks whose request failed or whose answer was not acceptable',
    labelNames: ['check'],
    registers: [registry],
  });

  monitor.events.roundFinished.subscribe(({ round }) => {
    for (const run of round.checks) {
      if (run.latencyMs !== undefined)
        durations.observe({ check: run.check }, run.latencyMs / 1000);
      if (run.failed) failures.inc({ check: run.check });
    }
  });
}

/**
 * Logs what an operator watches: an endpoint turning DEGRADED or UNHEALTHY
 * (warn, with the reasons) or HEALTHY again (info), a cluster level crossing
 * Envoy's panic threshold (warn) and coming back (info), a model turning cold
 * or warm (info). Endpoints that start HEALTHY log at debug only.
 */
export function observeHealthLogs(monitor: HealthMonitor, logger: Logger): void {
  monitor.events.statusChanged.subscribe((change) => {
    const fields = { ...change, reasons: change.reasons.map((reason) => reason.detail) };
    if (change.to !== 'HEALTHY') {
      logger.warn(
        fields,
        `endpoint ${change.endpoint} of cluster ${change.cluster} is ${change.to}`,
      );
    } else if (change.from === undefined) {
      logger.debug(fields, `endpoint ${change.endpoint} of cluster ${change.cluster} is HEALTHY`);
    } else {
      logger.info(
        fields,
        `endpoint ${change.endpoint} of cluster ${change.cluster} is HEALTHY again`,
      );
    }
  });

  monitor.events.panicChanged.subscribe((change) => {
    const where = `cluster ${change.cluster} priority ${change.priority}`;
    if (change.below) {
      logger.warn(
        change,
        `${where}: only ${change.routable} of ${change.total} endpoints are routable, below ` +
          `Envoy's panic threshold of ${change.thresholdPercent}%; Envoy will ignore health and ` +
          'spread traffic over every endpoint until enough recover',
      );
    } else {
      logger.info(change, `${where} is back above Envoy's panic threshold`);
    }
  });

  monitor.events.warmthChanged.subscribe((change) => {
    const state = change.cold ? 'cold' : 'warm';
    logger.info(change, `endpoint ${change.endpoint} of cluster ${change.cluster} is ${state}`);
  });
}
