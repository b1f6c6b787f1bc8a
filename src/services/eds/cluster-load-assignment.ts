import { createHash } from 'node:crypto';

import type {
  ClusterEvaluation,
  EnvoyHealth,
  EvaluatedEndpoint,
} from '../../health/cluster-evaluation.js';

/** `envoy.config.core.v3.Locality`. */
interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly sub_zone: string;
}

/** `envoy.config.endpoint.v3.LbEndpoint`, as tollgate fills it. */
export interface LbEndpoint {
  readonly endpoint: {
    readonly address: {
      readonly socket_address: {
        readonly protocol: 'TCP';
        readonly address: string;
        readonly port_value: number;
      };
    };
    readonly hostname?: string;
  };
  readonly health_status: EnvoyHealth;
  readonly load_balancing_weight: { readonly value: number };
}

/** `envoy.config.endpoint.v3.LocalityLbEndpoints`. */
export interface LocalityLbEndpoints {
  readonly locality: Locality;
  readonly lb_endpoints: readonly LbEndpoint[];
  readonly load_balancing_weight: { readonly value: number };
  readonly priority: number;
}

/** `envoy.config.endpoint.v3.ClusterLoadAssignment`, as tollgate fills it. */
export interface ClusterLoadAssignment {
  readonly cluster_name: string;
  readonly endpoints: readonly LocalityLbEndpoints[];
}

const NO_LOCALITY: Locality = Object.freeze({ region: '', zone: '', sub_zone: '' });

/**
 * The assignment Envoy receives for a cluster: one LocalityLbEndpoints per
 * (priority, locality), in priority order, each endpoint with its health
 * status and weight. Every group carries a locality (empty when none is
 * configured) and a locality weight, the sum of its endpoints' weights:
 * Envoy ignores both unless locality-weighted balancing is on, but gRPC's
 * xDS clients reject a group without a locality and skip one without weight.
 *
 * Without an evaluation (a name tollgate does not know, or a cluster removed
 * by a reload) the assignment is empty, so the client stops waiting for it
 * and sends that cluster no traffic.
 */
export function clusterLoadAssignment(
  name: string,
  evaluation: ClusterEvaluation | undefined,
): ClusterLoadAssignment {
  if (!evaluation) return { cluster_name: name, endpoints: [] };

  const groups = new Map<string, { priority: number; locality: Locality; lb: LbEndpoint[] }>();
  for (const endpoint of evaluation.endpoints) {
    const locality = localityOf(endpoint);
    const key = JSON.stringify([endpoint.config.priority, locality]);
    const group = groups.get(key) ?? { priority: endpoint.config.priority, locality, lb: [] };
    group.lb.push(lbEndpoint(endpoint));
    groups.set(key, group);
  }

  const endpoints = [...groups.values()]
    .sort((a, b) => a.priority - b.priority)
    .map((group) => ({
      locality: group.locality,
      lb_endpoints: group.lb,
      load_balancing_weight: { value: sumWeights(group.lb) },
      priority: group.priority,
    }));
  return { cluster_name: name, endpoints };
}

/**
 * The version of an assignment: a hash of its content. Equal content has an
 * equal version even across restarts, so a reconnecting client that reports
 * the version it holds is not sent the same thing again.
 */
export function assignmentVersion(assignment: ClusterLoadAssignment): string {
  return createHash('sha256').update(JSON.stringify(assignment)).digest('hex').slice(0, 16);
}

function lbEndpoint(endpoint: EvaluatedEndpoint): LbEndpoint {
  const { address, port, hostname } = endpoint.config;
  return {
    endpoint: {
      address: { socket_address: { protocol: 'TCP', address, port_value: port } },
      ...(hostname ? { hostname } : {}),
    },
    health_status: endpoint.envoyHealth,
    load_balancing_weight: { value: endpoint.weight },
  };
}

function localityOf(endpoint: EvaluatedEndpoint): Locality {
  const locality = endpoint.config.locality;
  if (!locality) return NO_LOCALITY;
  return { region: locality.region, zone: locality.zone, sub_zone: locality.subZone };
}

/** The group's weight: its endpoints' sum, capped at the largest uint32. */
function sumWeights(endpoints: readonly LbEndpoint[]): number {
  const sum = endpoints.reduce(
    (total, endpoint) => total + endpoint.load_balancing_weight.value,
    0,
  );
  return Math.min(sum, 0xffff_ffff);
}
