import type { AdminRoute } from '../admin/admin-server.js';
import { clusterReport, healthReport } from './health-report.js';
import type { HealthMonitor } from './health-monitor.js';

/**
 * The health endpoints: `GET /health` (every cluster, every endpoint: status,
 * reasons, what Envoy is told, the last probe's times and latencies, the
 * warmth baseline) and `GET /health/{cluster}`.
 */
export function healthRoutes(monitor: () => HealthMonitor): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: /^\/health$/,
      handler: () => ({ status: 200, body: { clusters: healthReport(monitor()) } }),
    },
    {
      method: 'GET',
      path: /^\/health\/([^/]+)$/,
      handler: (match) => {
        const name = decodeURIComponent(match[1] ?? '');
        const report = clusterReport(monitor(), name);
        if (report) return { status: 200, body: report };

        const error = `no cluster named "${name}"; GET /health lists the configured clusters`;
        return { status: 404, body: { error } };
      },
    },
  ];
}
