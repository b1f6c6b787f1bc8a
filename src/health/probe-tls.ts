import { readFileSync } from 'node:fs';

import type { ClusterHealthConfig } from './health-config.js';

/** A config problem found before a cluster set is applied: where, and what to do. */
export interface HealthConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** The CA bundles of every cluster that names one, by file, or every file that failed. */
export type ProbeCaResult =
  | { readonly ok: true; readonly cas: ReadonlyMap<string, Buffer> }
  | { readonly ok: false; readonly problems: readonly HealthConfigProblem[] };

/**
 * Reads every `checks.tls.ca_file` up front, so that a missing or unreadable
 * bundle stops start-up or a reload with the key's path, instead of turning
 * into probe failures later. Only the bytes are read; a bundle that is not
 * PEM fails the probes' TLS handshakes, with that reason on `/health`.
 */
export function readProbeCas(clusters: readonly ClusterHealthConfig[]): ProbeCaResult {
  const cas = new Map<string, Buffer>();
  const problems: HealthConfigProblem[] = [];

  clusters.forEach((cluster, index) => {
    const file = cluster.checks.tls?.caFile;
    if (!file || cas.has(file)) return;

    try {
      cas.set(file, readFileSync(file));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      problems.push({
        path: `clusters.${index}.checks.tls.ca_file`,
        message: `cannot read ${file} (${reason}); fix the path or remove ca_file`,
      });
    }
  });
  return problems.length === 0 ? { ok: true, cas } : { ok: false, problems };
}
