import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every tollgate metric name starts with this. */
export const METRIC_PREFIX = 'tollgate_';

/**
 * Creates the metrics registry served on `/metrics`: Node's process metrics
 * plus whatever each component registers on it. One registry per process (or
 * per test), never prom-client's global one, so tests do not leak into each
 * other.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
