import { DeltaSubscription } from './delta-subscription.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from './discovery-messages.js';
import type { StreamKind } from './discovery-stream.js';
import { SotwSubscription } from './sotw-subscription.js';

/** State-of-the-world streams, named `api` in logs. */
export function sotwKind(api: string): StreamKind<DiscoveryRequest, DiscoveryResponse> {
  return { api, create: (context, send) => new SotwSubscription(context, send) };
}

/** Incremental streams, named `api` in logs. */
export function deltaKind(api: string): StreamKind<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  return { api, create: (context, send) => new DeltaSubscription(context, send) };
}
