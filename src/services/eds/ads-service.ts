import type { ServerDuplexStream } from '@grpc/grpc-js';

import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from './discovery-messages.js';
import { serveDiscoveryStream, type StreamDeps } from './discovery-stream.js';
import { deltaKind, sotwKind } from './stream-kinds.js';

/** The aggregated discovery service, which Envoys using ADS open one stream of. */
export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

const SOTW = sotwKind('ads-sotw');
const DELTA = deltaKind('ads-delta');

/**
 * `envoy.service.discovery.v3.AggregatedDiscoveryService`, for the
 * ClusterLoadAssignment type only: the same subscriptions as EDS on one
 * stream shared with other types, which are left unanswered.
 */
export function adsImplementation(deps: StreamDeps) {
  return {
    StreamAggregatedResources(call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
      serveDiscoveryStream(call, SOTW, deps);
    },
    DeltaAggregatedResources(
      call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
    ) {
      serveDiscoveryStream(call, DELTA, deps);
    },
  };
}
