import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { BreakerPermit } from '../breaker/circuit-breaker.js';
import type { BudgetLedger } from '../budget/budget-ledger.js';
import { resolveTenant } from '../tenant/tenant-resolver.js';
import { BudgetGate, checkBudget, type BudgetGateDeps } from './budget-gate.js';
import { formatFromPath } from '../usage/provider-format.js';
import { parseRequestBody } from '../usage/request/llm-request.js';
import { defaultEstimate, estimateRequest } from '../usage/request/prompt-estimator.js';
import type { TollgateConfig } from '../config/tollgate-config.js';
import { Exchange } from './exchange.js';
import { circuitOpenAnswer, tenantRequiredAnswer, type PolicyAnswer } from './policy-answer.js';
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
 * A decision for a front end that never sees the response (ext_authz): it
 * takes no breaker permit and reserves no budget, so it can only allow or deny.
 */
export type Precheck =
  | {
      readonly kind: 'allow';
      readonly tenant?: string;
      /** Headers to add to the upstream request (the remaining budget). */
      readonly headers: ReadonlyArray<readonly [string, string]>;
      readonly remaining?: number;
    }
  | { readonly kind: 'deny'; readonly answer: PolicyAnswer; readonly tenant?: string };

/** The budget side of the engine: the shared ledger and where to log. */
export interface EngineBudgets {
  readonly ledger: BudgetLedger;
  readonly logger: Logger;
}

/**
 * The policy decisions shared by every front end. ext_proc and ext_authz turn
 * Envoy messages into {@link RequestFacts}, ask the engine, and render its
 * answer; no policy logic lives in the front ends.
 */
export class DecisionEngine {
  private readonly decisions: Counter<'decision'>;
  private readonly unguarded: Counter;
  private readonly recorder: UsageRecorder;
  private readonly budgetDeps: BudgetGateDeps | undefined;

  constructor(
    private readonly config: TollgateConfig,
    private readonly breakers: BreakerSet,
    metrics: Registry,
    budgets?: EngineBudgets,
  ) {
    this.decisions = counterIn(metrics, {
      name: 'tollgate_decisions_total',
      help: 'Requests decided by tollgate, by decision',
      labelNames: ['decision'] as const,
    });
    this.unguarded = counterIn(metrics, {
      name: 'tollgate_breaker_unguarded_total',
      help:
        'Requests forwarded without a breaker: no upstream identified, or the ' +
        'max_dynamic_breakers cap was reached',
    });
    const usageMetrics = new UsageMetrics(metrics, config.usage);
    this.recorder = new UsageRecorder(config.pricing, usageMetrics);
    this.budgetDeps = budgets && {
      ledger: budgets.ledger,
      logger: budgets.logger,
      remainingHeader: config.budgets.remainingHeader,
      failOpenAdmits: counterIn(metrics, {
        name: 'tollgate_budget_fail_open_total',
        help: 'Requests admitted without a budget check because the budget store was unreachable',
      }),
    };
  }

  /** Decides on a request at its headers. Synchronous: it holds no I/O. */
  admit(facts: RequestFacts): Admission {
    const { tenant } = resolveTenant(this.config.tenants, facts);
    if (tenant === undefined && this.config.tenants.required) {
      this.decisions.inc({ decision: 'tenant_required' });
      return { kind: 'answer', answer: tenantRequiredAnswer() };
    }

    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    if (!this.config.breakers.enabled) return this.forward(facts, upstream, tenant, undefined);

    const breaker = upstream === undefined ? undefined : this.breakers.get(upstream);
    if (!breaker) {
      this.unguarded.inc();
      return this.forward(facts, upstream, tenant, undefined);
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

    return this.forward(facts, upstream, tenant, admission.permit);
  }

  /**
   * Decides on a request without admitting it: the tenant rule, an open
   * breaker, and the budget checked (not reserved) for the estimate from
   * `body` when Envoy sent it, else the default estimate.
   */
  async check(facts: RequestFacts, body: Buffer | undefined): Promise<Precheck> {
    const { tenant } = resolveTenant(this.config.tenants, facts);
    if (tenant === undefined && this.config.tenants.required) {
      return this.deny(tenantRequiredAnswer());
    }

    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    const breaker =
      this.config.breakers.enabled && upstream ? this.breakers.get(upstream) : undefined;
    const peek = breaker?.peek();
    if (breaker && peek?.open) {
      return this.deny(
        circuitOpenAnswer(breaker.name, peek.retryAfterSeconds, peek.forced),
        tenant,
      );
    }

    if (!this.budgetDeps || tenant === undefined) {
      this.decisions.inc({ decision: 'forward' });
      return { kind: 'allow', tenant, headers: [] };
    }
    const verdict = await checkBudget(this.budgetDeps, tenant, this.estimate(facts, body));
    if (verdict.kind === 'answer') return this.deny(verdict.answer, tenant);

    this.decisions.inc({ decision: 'forward' });
    return { kind: 'allow', tenant, headers: verdict.headers, remaining: verdict.remaining };
  }

  /** Counts a request that the budget answered after the engine admitted it. */
  countBudgetAnswer(answer: PolicyAnswer): void {
    this.decisions.inc({ decision: answer.details.replace(/^tollgate_/, '') });
  }

  /** The budget ledger this engine charges, when budgets are on. */
  get budgetLedger(): BudgetLedger | undefined {
    return this.budgetDeps?.ledger;
  }

  /** The config the engine currently decides with. */
  get currentConfig(): TollgateConfig {
    return this.config;
  }

  private deny(answer: PolicyAnswer, tenant?: string): Precheck {
    this.countBudgetAnswer(answer);
    return { kind: 'deny', answer, tenant };
  }

  /** Tokens a request may use: its prompt and output allowance, or the default estimate. */
  private estimate(facts: RequestFacts, body: Buffer | undefined): number {
    const settings = this.config.usage.estimator;
    const format = formatFromPath(facts.headers.get(':path') ?? '/');
    const parsed = body && body.length > 0 ? parseRequestBody(body, format) : undefined;

    const estimate = parsed?.ok
      ? estimateRequest(parsed.request, settings)
      : defaultEstimate(settings);
    return estimate.input + estimate.output;
  }

  private forward(
    facts: RequestFacts,
    upstream: string | undefined,
    tenant: string | undefined,
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
    const deps = this.budgetDeps;
    const budget = deps && tenant !== undefined ? new BudgetGate(deps, tenant) : undefined;
    const exchange = new Exchange(upstream, permit, usage, this.recorder, budget, tenant);
    return { kind: 'forward', exchange };
  }
}

/** A counter registered once per metrics registry, shared by the engines a reload builds. */
function counterIn<L extends string = string>(
  metrics: Registry,
  spec: { name: string; help: string; labelNames?: readonly L[] },
): Counter<L> {
  const existing = metrics.getSingleMetric(spec.name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ ...spec, registers: [metrics] });
}
