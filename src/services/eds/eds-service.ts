import {
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
} from '@grpc/grpc-js';

import { createHash } from 'node:crypto';

import {
  CLA_TYPE_URL,
  CONTROL_PLANE,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from './discovery-messages.js';
import { serveDiscoveryStream, type StreamDeps } from './discovery-stream.js';
import { deltaKind, sotwKind } from './stream-kinds.js';
import { concreteNames, warnIfUnknown } from './subscription-context.js';

const SOTW = sotwKind('eds-sotw');
const DELTA = deltaKind('eds-delta');

/**
 * `envoy.service.endpoint.v3.EndpointDiscoveryService`: `StreamEndpoints`
 * (state of the world), `DeltaEndpoints` (incremental) and `FetchEndpoints`
 * (one unary answer, for tools and REST-style polling).
 */
export function edsImplementation(deps: StreamDeps) {
  return {
    StreamEndpoints(call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
      serveDiscoveryStream(call, SOTW, deps);
    },
    DeltaEndpoints(call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) {
      serveDiscoveryStream(call, DELTA, deps);
    },
    FetchEndpoints(
      call: ServerUnaryCall<DiscoveryRequest, DiscoveryResponse>,
      callback: sendUnaryData<DiscoveryResponse>,
    ) {
      fetchEndpoints(call.request, deps, callback);
    },
  };
}

/**
 * Answers a fetch with every named cluster (an empty assignment, and a
 * warning, for names tollgate does not know). The version is a hash of the
 * clusters' versions, so an unchanged set of answers has the same version.
 */
function fetchEndpoints(
  request: DiscoveryRequest,
  deps: StreamDeps,
  callback: sendUnaryData<DiscoveryResponse>,
): void {
  const type = request.type_url || CLA_TYPE_URL;
  if (type !== CLA_TYPE_URL) {
    const details = `FetchEndpoints serves ${CLA_TYPE_URL} only, not ${type}`;
    callback({ code: status.INVALID_ARGUMENT, details });
    return;
  }

  const logger = deps.logger.child({ api: 'eds-fetch', node: request.node?.id });
  const context = { store: deps.store, metrics: deps.metrics, logger };
  const resources = concreteNames(request.resource_names).map((name) => deps.store.resource(name));
  const warned = new Set<string>();
  for (const resource of resources) warnIfUnknown(resource, warned, context);

  const versions = resources.map((resource) => `${resource.name}@${resource.version}`).join(',');
  callback(null, {
    version_info: createHash('sha256').update(versions).digest('hex').slice(0, 16),
    resources: resources.map((resource) => resource.any),
    type_url: CLA_TYPE_URL,
    nonce: '',
    control_plane: CONTROL_PLANE,
  });
}
