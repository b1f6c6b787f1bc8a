import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';

import { POSSIBLE_TRANSITIONS, type BreakerEvents } from './breaker-events.js';
import type { BreakerSet } from './breaker-set.js';
import type { BreakerStateKind } from './breaker-state.js';

const STATES: readonly BreakerStateKind[] = ['closed', 'open', 'half_open'];

/**
 * Publishes breaker metrics. The state gauge is read at scrape time, so a
 * breaker whose open timeout has passed shows `half_open` even if no request
 * has arrived since; counters follow the breakers' events. Each breaker's
 * counter series exist at zero from the moment it does, and go when a reload
 * drops it.
 */
export function observeBreakerMetrics(
  events: BreakerEvents,
  breakers: () => BreakerSet,
  registry: Registry,
): void {
  new Gauge({
    name: 'tollgate_breaker_state',
    help: 'Circuit breaker state per upstream: 1 for the current state, 0 for the others',
    labelNames: ['breaker', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const breaker of breakers().list()) {
        const current = breaker.state().kind;
        for (const state of STATES)
          this.set({ breaker: breaker.name, state }, +(state === current));
      }
    },
  });

  const transitions = new Counter({
    name: 'tollgate_breaker_transitions_total',
    help: 'Circuit breaker state changes',
    labelNames: ['breaker', 'from', 'to'],
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'tollgate_breaker_rejections_total',
    help: 'Requests answered 503 by an open or saturated half-open breaker',
    labelNames: ['breaker'],
    registers: [registry],
  });

  events.onTransition((event) =>
    transitions.inc({ breaker: event.breaker, from: event.from, to: event.to }),
  );
  events.onRejection((event) => rejections.inc({ breaker: event.breaker }));

  const start = (breaker: string) => {
    for (const [from, to] of POSSIBLE_TRANSITIONS) transitions.inc({ breaker, from, to }, 0);
    rejections.inc({ breaker }, 0);
  };
  const drop = (breaker: string) => {
    for (const [from, to] of POSSIBLE_TRANSITIONS) transitions.remove({ breaker, from, to });
    rejections.remove({ breaker });
  };
  for (const breaker of breakers().list()) start(breaker.name);
  events.onAdded(({ breaker }) => start(breaker));
  events.onRemoved(({ breaker }) => drop(breaker));
}

/**
 * Logs every breaker transition (warn when a breaker opens, info otherwise),
 * and once a warning when the dynamic breaker cap leaves upstreams unguarded.
 */
export function observeBreakerLogs(events: BreakerEvents, logger: Logger): void {
  events.onCapReached(({ upstream, maxDynamic }) =>
    logger.warn(
      { upstream, maxDynamic },
      `max_dynamic_breakers (${maxDynamic}) reached: requests to new upstreams pass without a ` +
        'breaker (counted in tollgate_breaker_unguarded_total). List the real upstreams under ' +
        'circuit_breakers.upstreams, raise the cap, or key breakers by xds.cluster_name',
    ),
  );
  events.onTransition((event) => {
    const fields = { breaker: event.breaker, from: event.from, to: event.to, reason: event.reason };
    if (event.to === 'open') logger.warn(fields, 'circuit breaker opened; requests get 503');
    else logger.info(fields, `circuit breaker is now ${event.to}`);
  });
}
