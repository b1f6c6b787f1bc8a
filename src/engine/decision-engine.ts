import { Counter, type Registry } from 'prom-client';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { BreakerPermit } from '../breaker/circuit-breaker.js';
import type { TollgateConfig } from '../config/tollgate-config.js';
import { Exchange } from './exchange.js';
import { circuitOpenAnswer, type PolicyAnswer } from './policy-answer.js';
import type { RequestFacts } from './request-facts.js';
import { resolveUpstream } from './upstream-resolver.js';
import { UsageAccount } from '../usage/usage-account.js';
import { UsageMetrics } from '../usage/usage-metrics.js';
import { UsageRecorder } from './usage-recorder.js';

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
  private readonly recorder: UsageRecorder;

  constructor(
    private readonly config: TollgateConfig,
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
    const usageMetrics = new UsageMetrics(metrics, config.usage.maxModelLabels);
    this.recorder = new UsageRecorder(config.pricing, usageMetrics);
  }

  /** Decides on a request at its headers. Synchronous: it holds no I/O. */
  admit(facts: RequestFacts): Admission {
    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    if (!this.config.breakers.enabled) return this.forward(facts, upstream, undefined);

    const breaker = upstream === undefined ? undefined : this.breakers.get(upstream);
    if (!breaker) {
      this.unguarded.inc();
      return this.forward(facts, upstream, undefined);
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

    return this.forward(facts, upstream, admission.permit);
  }

  /** The config the engine currently decides with. */
  get currentConfig(): TollgateConfig {
    return this.config;
  }

  private forward(
    facts: RequestFacts,
    upstream: string | undefined,
    permit: BreakerPermit | undefined,
  ): Admission {
    this.decisions.inc({ decision: 'forward' });

    const policy = this.config.usage;
    const usage = policy.enabled
      ? new UsageAccount(policy, {
          path: facts.headers.get(':path') ?? '/',
          routeName: facts.attributes.get('xds.route_name'),
        })
      : undefined;
    return { kind: 'forward', exchange: new Exchange(upstream, permit, usage, this.recorder) };
  }
}
