import {
  CLA_TYPE_URL,
  CONTROL_PLANE,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from './discovery-messages.js';
import { ResponseLedger } from './response-ledger.js';
import {
  concreteNames,
  noteReply,
  warnIfUnknown,
  type SubscriptionContext,
} from './subscription-context.js';

/**
 * The ClusterLoadAssignment subscriptions of one state-of-the-world stream
 * (`StreamEndpoints`, or the CLA type on `StreamAggregatedResources`).
 *
 * Each request names every cluster the client wants; a name new to the
 * stream is answered at once, a name dropped is forgotten (so unsubscribing
 * and subscribing again sends it again). This is applied for every request,
 * stale nonce or not: a subscription change must never be lost.
 *
 * Each cluster has its own version (its content hash) and is sent in its own
 * response with its own nonce, so `version_info` always names exactly what
 * the response holds. EDS does not need every resource in each response:
 * Envoy keeps the last assignment of a cluster a response leaves out.
 */
export class SotwSubscription {
  private readonly ledger = new ResponseLedger();
  /** Subscribed names → the version last sent on this stream. */
  private readonly sent = new Map<string, string | undefined>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly context: SubscriptionContext,
    private readonly send: (response: DiscoveryResponse) => void,
  ) {}

  /** Clusters subscribed on this stream. */
  get size(): number {
    return this.sent.size;
  }

  /** Handles one request of the stream. */
  handle(request: DiscoveryRequest): void {
    noteReply(this.ledger.classify(request.response_nonce, request.error_detail), this.context);

    const wanted = new Set(concreteNames(request.resource_names));
    for (const name of [...this.sent.keys()]) {
      if (!wanted.has(name)) this.sent.delete(name);
    }
    for (const name of wanted) {
      if (!this.sent.has(name)) this.push(name);
    }
  }

  /** Sends the clusters among `names` this stream subscribes to whose version it lacks. */
  changed(names: readonly string[]): void {
    for (const name of names) {
      if (!this.sent.has(name)) continue;
      if (this.sent.get(name) === this.context.store.resource(name).version) continue;
      this.push(name);
    }
  }

  private push(name: string): void {
    const resource = this.context.store.resource(name);
    warnIfUnknown(resource, this.warned, this.context);

    const nonce = this.ledger.issue([{ name, version: resource.version }]);
    this.sent.set(name, resource.version);
    this.send({
      version_info: resource.version,
      resources: [resource.any],
      type_url: CLA_TYPE_URL,
      nonce,
      control_plane: CONTROL_PLANE,
    });
    this.context.metrics.pushed(name, resource.known);
    this.context.logger.debug({ cluster: name, version: resource.version, nonce }, 'EDS push');
  }
}
