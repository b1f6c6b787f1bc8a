import type protobuf from 'protobufjs';

import { CLA_TYPE_URL } from '../../src/services/eds/discovery-messages.js';
import { EnvoyProtoRoot } from './envoy-proto-root.js';

/** An `Any` as a discovery response carries it. */
export interface AnyResource {
  readonly type_url: string;
  readonly value: Uint8Array;
}

/** One endpoint of a decoded ClusterLoadAssignment, flattened for assertions. */
export interface DecodedEndpoint {
  readonly address: string;
  readonly port: number;
  readonly hostname: string | undefined;
  /** `UNKNOWN` when the field is unset (its zero value). */
  readonly health: string;
  readonly weight: number | undefined;
  readonly priority: number;
  readonly locality: { region: string; zone: string; sub_zone: string } | undefined;
  readonly localityWeight: number | undefined;
}

/** A decoded ClusterLoadAssignment. */
export interface DecodedAssignment {
  readonly clusterName: string;
  readonly endpoints: DecodedEndpoint[];
}

let type: protobuf.Type | undefined;

/**
 * Decodes an EDS resource with Envoy's own ClusterLoadAssignment proto
 * (loaded by protobufjs from the `@grpc/grpc-js-xds` folders, independently
 * of the server's encoder). Throws when the `Any` holds another type.
 */
export function decodeAssignment(any: AnyResource | undefined): DecodedAssignment {
  if (any?.type_url !== CLA_TYPE_URL) {
    throw new Error(`expected a ClusterLoadAssignment, got ${any?.type_url ?? 'nothing'}`);
  }

  type ??= EnvoyProtoRoot.load(['envoy/config/endpoint/v3/endpoint.proto']).messageType(
    'envoy.config.endpoint.v3.ClusterLoadAssignment',
  );
  if (!type) throw new Error('ClusterLoadAssignment is missing from the Envoy protos');

  const message = type.toObject(type.decode(any.value), { enums: String, longs: Number });
  return {
    clusterName: message.cluster_name as string,
    endpoints: ((message.endpoints ?? []) as LocalityGroup[]).flatMap(flatten),
  };
}

interface LocalityGroup {
  locality?: { region?: string; zone?: string; sub_zone?: string };
  priority?: number;
  load_balancing_weight?: { value?: number };
  lb_endpoints?: Array<{
    endpoint?: {
      address?: { socket_address?: { address?: string; port_value?: number } };
      hostname?: string;
    };
    health_status?: string;
    load_balancing_weight?: { value?: number };
  }>;
}

function flatten(group: LocalityGroup): DecodedEndpoint[] {
  const locality = group.locality && {
    region: group.locality.region ?? '',
    zone: group.locality.zone ?? '',
    sub_zone: group.locality.sub_zone ?? '',
  };
  return (group.lb_endpoints ?? []).map((lb) => ({
    address: lb.endpoint?.address?.socket_address?.address ?? '',
    port: lb.endpoint?.address?.socket_address?.port_value ?? 0,
    hostname: lb.endpoint?.hostname,
    health: lb.health_status ?? 'UNKNOWN',
    weight: lb.load_balancing_weight?.value,
    priority: group.priority ?? 0,
    locality,
    localityWeight: group.load_balancing_weight?.value,
  }));
}

/** `address:port → health@weight` of every endpoint, for compact assertions. */
export function healthMap(assignment: DecodedAssignment): Record<string, string> {
  return Object.fromEntries(
    assignment.endpoints.map((e) => [`${e.address}:${e.port}`, `${e.health}@${e.weight}`]),
  );
}
