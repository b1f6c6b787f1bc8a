import {
  CLA_TYPE_URL,
  CONTROL_PLANE,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DeltaResource,
} from './discovery-messages.js';
import { ResponseLedger } from './response-ledger.js';
import {
  concreteNames,
  noteReply,
  warnIfUnknown,
  type SubscriptionContext,
} from './subscription-context.js';

/**
 * The ClusterLoadAssignment subscriptions of one incremental stream
 * (`DeltaEndpoints`, or the CLA type on `DeltaAggregatedResources`).
 *
 * For every subscribed name the stream remembers the version the client
 * has: what was last sent, or what the client reported in
 * `initial_resource_versions` on the first request after a reconnect, so a
 * cluster the client already holds at the current version is not sent
 * again. Subscribing to a name (again) sends it unless the client reported
 * the current version; unsubscribing forgets it. Subscription changes apply
 * whatever the nonce says.
 */
export class DeltaSubscription {
  private readonly ledger = new ResponseLedger();
  /** Subscribed names → the version the client holds, if known. */
  private readonly held = new Map<string, string | undefined>();
  private readonly warned = new Set<string>();
  private first = true;

  constructor(
    private readonly context: SubscriptionContext,
    private readonly send: (response: DeltaDiscoveryResponse) => void,
  ) {}

  /** Clusters subscribed on this stream. */
  get size(): number {
    return this.held.size;
  }

  /** Handles one request of the stream. */
  handle(request: DeltaDiscoveryRequest): void {
    noteReply(this.ledger.classify(request.response_nonce, request.error_detail), this.context);

    const initial = this.first ? (request.initial_resource_versions ?? {}) : {};
    this.first = false;
    for (const name of concreteNames(request.resource_names_unsubscribe)) this.held.delete(name);

    const subscribed = concreteNames(request.resource_names_subscribe);
    for (const name of subscribed) this.held.set(name, initial[name]);
    this.changed(subscribed);
  }

  /** Sends, in one response, the clusters among `names` whose version the client lacks. */
  changed(names: readonly string[]): void {
    const resources: DeltaResource[] = [];
    for (const name of new Set(names)) {
      if (!this.held.has(name)) continue;

      const resource = this.context.store.resource(name);
      if (this.held.get(name) === resource.version) continue;

      warnIfUnknown(resource, this.warned, this.context);
      this.held.set(name, resource.version);
      resources.push({ name, version: resource.version, resource: resource.any });
    }
    if (resources.length > 0) this.push(resources);
  }

  private push(resources: DeltaResource[]): void {
    const nonce = this.ledger.issue(resources.map(({ name, version }) => ({ name, version })));
    this.send({
      system_version_info: '',
      resources,
      type_url: CLA_TYPE_URL,
      removed_resources: [],
      nonce,
      control_plane: CONTROL_PLANE,
    });

    for (const { name } of resources) {
      this.context.metrics.pushed(name, this.context.store.resource(name).known);
    }
    const versions = resources.map(({ name, version }) => `${name}@${version}`);
    this.context.logger.debug({ resources: versions, nonce }, 'EDS delta push');
  }
}
