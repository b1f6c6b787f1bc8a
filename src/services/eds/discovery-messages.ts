/**
 * The xDS discovery messages as `@grpc/proto-loader` decodes them (see
 * `PROTO_LOADER_OPTIONS`): proto field names, unset fields undefined,
 * enums as names. Only the fields tollgate reads or writes are typed.
 */

/** The type URL of EDS resources. */
export const CLA_TYPE_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** The Envoy (or other xDS client) that opened a stream. */
export interface XdsNode {
  readonly id?: string;
  readonly cluster?: string;
  readonly user_agent_name?: string;
}

/** `google.rpc.Status`: why a client rejected a response. */
export interface RpcStatus {
  readonly code?: number;
  readonly message?: string;
}

/** An encoded `google.protobuf.Any`. */
export interface EncodedAny {
  readonly type_url: string;
  readonly value: Buffer;
}

/** State-of-the-world request: the full list of names the client wants. */
export interface DiscoveryRequest {
  readonly version_info?: string;
  readonly node?: XdsNode;
  readonly resource_names?: readonly string[];
  readonly type_url?: string;
  readonly response_nonce?: string;
  readonly error_detail?: RpcStatus;
}

/** State-of-the-world response. */
export interface DiscoveryResponse {
  readonly version_info: string;
  readonly resources: readonly EncodedAny[];
  readonly type_url: string;
  readonly nonce: string;
  readonly control_plane?: { readonly identifier: string };
}

/** Incremental request: subscription changes, and an ACK or NACK by nonce. */
export interface DeltaDiscoveryRequest {
  readonly node?: XdsNode;
  readonly type_url?: string;
  readonly resource_names_subscribe?: readonly string[];
  readonly resource_names_unsubscribe?: readonly string[];
  /** Sent on the first request of a stream: the versions the client already has. */
  readonly initial_resource_versions?: Readonly<Record<string, string>>;
  readonly response_nonce?: string;
  readonly error_detail?: RpcStatus;
}

/** One resource of an incremental response. */
export interface DeltaResource {
  readonly name: string;
  readonly version: string;
  readonly resource: EncodedAny;
}

/** Incremental response. */
export interface DeltaDiscoveryResponse {
  readonly system_version_info: string;
  readonly resources: readonly DeltaResource[];
  readonly type_url: string;
  readonly removed_resources: readonly string[];
  readonly nonce: string;
  readonly control_plane?: { readonly identifier: string };
}

/** Names tollgate as the control plane in responses (shown in Envoy's config dump). */
export const CONTROL_PLANE = Object.freeze({ identifier: 'tollgate' });
