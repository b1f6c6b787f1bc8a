import { Counter, type Registry } from 'prom-client';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { BreakerPermit } from '../breaker/circuit-breaker.js';
import type { TollgateConfig } from '../config/tollgate-config.js';
import { Exchange } from './exchange.js';
import { circuitOpenAnswer, type PolicyAnswer } from './policy-answer.js';
import type { RequestFacts } from './request-facts.js';
import { resolveUpstream } from './upstream-resolver.js';

/** What to do with a request: forward it (and report back), or answer it now. */
export type Admission =
  | { readonly kind: 'forward'; readonly exchange: Exchange }
  | { readonly kind: 'answer'; readonly answer: PolicyAnswer; readonly upstream?: string };

/**
 * The policy decisions shared by every front end. ext_proc and ext_authz turn
 * Envoy messages into {@link RequestFacts}, ask the engine, and render its
 * answer; no policy logic lives in the front ends.
 */
export class DecisionEngine {
  private readonly decisions: Counter<'decision'>;
  private readonly unguarded: Counter;

  constructor(
    private config: TollgateConfig,
    private readonly breakers: BreakerSet,
    metrics: Registry,
  ) {
    this.decisions = new Counter({
      name: 'tollgate_decisions_total',
      help: 'Requests decided by tollgate, by decision',
      labelNames: ['decision'],
      registers: [metrics],
    });
    this.unguarded = new Counter({
      name: 'tollgate_breaker_unguarded_total',
      help:
        'Requests forwarded without a breaker: no upstream identified, or the ' +
        'max_dynamic_breakers cap was reached',
      registers: [metrics],
    });
  }

  /** Decides on a request at its headers. Synchronous: it holds no I/O. */
  admit(facts: RequestFacts): Admission {
    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    if (!this.config.breakers.enabled) return this.forward(upstream, undefined);

    const breaker = upstream === undefined ? undefined : this.breakers.get(upstream);
    if (!breaker) {
      this.unguarded.inc();
      return this.forward(upstream, undefined);
    }

    const admission = breaker.tryAcquire();
    if (!admission.admitted) {
      this.decisions.inc({ decision: 'circuit_open' });
      return {
        kind: 'answer',
        answer: circuitOpenAnswer(breaker.name, admission.retryAfterSeconds, admission.forced),
        upstream,
      };
    }

    return this.forward(upstream, admission.permit);
  }

  /** The config the engine currently decides with. */
  get currentConfig(): TollgateConfig {
    return this.config;
  }

  private forward(upstream: string | undefined, permit: BreakerPermit | undefined): Admission {
    this.decisions.inc({ decision: 'forward' });
    return { kind: 'forward', exchange: new Exchange(upstream, permit) };
  }
}
