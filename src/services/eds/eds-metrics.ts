import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The label value for names tollgate has no cluster for: those names are
 * chosen by clients, so they never become label values themselves.
 */
export const UNKNOWN_CLUSTER_LABEL = '_unknown';

/** The EDS metrics. */
export class EdsMetrics {
  private readonly pushes: Counter<'cluster'>;
  private readonly nacks: Counter<'cluster'>;

  /** `subscribers` is read at scrape time: streams subscribed to at least one cluster. */
  constructor(registry: Registry, subscribers: () => number) {
    new Gauge({
      name: 'tollgate_eds_subscribers',
      help: 'Open EDS and ADS streams subscribed to at least one ClusterLoadAssignment',
      registers: [registry],
      collect() {
        this.set(subscribers());
      },
    });
    this.pushes = new Counter({
      name: 'tollgate_eds_pushes_total',
      help: 'ClusterLoadAssignments sent to subscribers, per cluster',
      labelNames: ['cluster'],
      registers: [registry],
    });
    this.nacks = new Counter({
      name: 'tollgate_eds_nacks_total',
      help: 'ClusterLoadAssignments a client rejected (NACK), per cluster',
      labelNames: ['cluster'],
      registers: [registry],
    });
  }

  /** One assignment was sent. */
  pushed(cluster: string, known: boolean): void {
    this.pushes.inc({ cluster: known ? cluster : UNKNOWN_CLUSTER_LABEL });
  }

  /** One assignment was rejected. */
  nacked(cluster: string, known: boolean): void {
    this.nacks.inc({ cluster: known ? cluster : UNKNOWN_CLUSTER_LABEL });
  }
}
