import type { ServiceDefinition } from '@grpc/grpc-js';

import { envoyService } from '../envoy-protos.js';
import { CLA_TYPE_URL, type EncodedAny } from './discovery-messages.js';
import type { ClusterLoadAssignment } from './cluster-load-assignment.js';

/** The EDS service, whose messages carry ClusterLoadAssignments as `Any`. */
export const EDS_SERVICE = 'envoy.service.endpoint.v3.EndpointDiscoveryService';

type Codec = {
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
};

/**
 * Encodes ClusterLoadAssignments into the `Any` that discovery responses
 * carry, with the Envoy protos the server itself loaded.
 *
 * protobufjs (under `@grpc/proto-loader`) encodes an `Any` written as
 * `{ '@type': url, ...fields }` as the message type the URL names, looked
 * up in the same loaded root. Going once through the EDS service's own
 * serializer and back yields the encoded `Any`, so each version is encoded
 * once and every subscriber receives the same bytes.
 */
export class AssignmentCodec {
  private readonly codec: Codec;

  /** Throws if the loaded protos lack the ClusterLoadAssignment type. */
  constructor(definition: ServiceDefinition = envoyService(EDS_SERVICE)) {
    this.codec = definition.FetchEndpoints as unknown as Codec;
    this.encode({ cluster_name: 'tollgate-self-check', endpoints: [] });
  }

  /** The assignment as an encoded `Any`. */
  encode(assignment: ClusterLoadAssignment): EncodedAny {
    const wire = this.codec.responseSerialize({
      resources: [{ '@type': CLA_TYPE_URL, ...assignment }],
    });
    const decoded = this.codec.responseDeserialize(wire) as { resources?: EncodedAny[] };
    const any = decoded.resources?.[0];

    if (!any || any.type_url !== CLA_TYPE_URL || any.value.length === 0) {
      throw new Error(
        'the loaded Envoy protos cannot encode a ClusterLoadAssignment: ' +
          'envoy/config/endpoint/v3/endpoint.proto must be in ENVOY_SERVICE_PROTOS',
      );
    }
    return { type_url: any.type_url, value: Buffer.from(any.value) };
  }
}
