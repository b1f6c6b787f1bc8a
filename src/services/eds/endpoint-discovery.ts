import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import type { HealthMonitor } from '../../health/health-monitor.js';
import { envoyService } from '../envoy-protos.js';
import { ADS_SERVICE, adsImplementation } from './ads-service.js';
import { AssignmentCodec, EDS_SERVICE } from './assignment-codec.js';
import { AssignmentStore } from './assignment-store.js';
import type { StreamDeps } from './discovery-stream.js';
import { EdsMetrics } from './eds-metrics.js';
import { edsImplementation } from './eds-service.js';
import { StreamRegistry } from './stream-registry.js';

export { ADS_SERVICE, EDS_SERVICE };

/** What {@link EndpointDiscovery} is built from. */
export interface EndpointDiscoveryOptions {
  readonly monitor: HealthMonitor;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** A gRPC service to add to the server. */
export interface DiscoveryServiceEntry {
  readonly name: string;
  readonly definition: ReturnType<typeof envoyService>;
  readonly implementation: object;
}

/**
 * EDS and ADS over the health monitor: the store of ClusterLoadAssignments,
 * refreshed whenever the monitor evaluates a cluster or a reload changes the
 * cluster set, and the gRPC services that push them to every subscriber.
 * A reload never touches the streams: subscribers stay connected and get
 * whatever changed.
 */
export class EndpointDiscovery {
  /** The current assignment of every cluster. */
  readonly store: AssignmentStore;

  private readonly registry = new StreamRegistry();
  private readonly deps: StreamDeps;
  private readonly unsubscribe: Array<() => void>;

  constructor(options: EndpointDiscoveryOptions) {
    const { monitor } = options;
    this.store = new AssignmentStore(new AssignmentCodec(), (name) => monitor.evaluation(name));
    const metrics = new EdsMetrics(options.metrics, () => this.registry.subscribers());
    this.deps = { store: this.store, metrics, logger: options.logger, registry: this.registry };

    this.unsubscribe = [
      monitor.events.evaluated.subscribe((evaluation) => this.store.refresh([evaluation.cluster])),
      monitor.events.clustersChanged.subscribe(({ names }) => this.store.refresh(names)),
    ];
    this.store.refresh(monitor.allEvaluations().map((evaluation) => evaluation.cluster));
  }

  /** The EDS and ADS services, for the gRPC server. */
  services(): DiscoveryServiceEntry[] {
    return [
      {
        name: EDS_SERVICE,
        definition: envoyService(EDS_SERVICE),
        implementation: edsImplementation(this.deps),
      },
      {
        name: ADS_SERVICE,
        definition: envoyService(ADS_SERVICE),
        implementation: adsImplementation(this.deps),
      },
    ];
  }

  /** Ends every discovery stream (UNAVAILABLE) and refuses new ones; call before a drain. */
  stop(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.registry.closeAll();
  }
}
