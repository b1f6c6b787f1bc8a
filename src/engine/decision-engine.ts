import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { BreakerPermit, CircuitBreaker } from '../breaker/circuit-breaker.js';
import type { BudgetLedger } from '../budget/budget-ledger.js';
import { PRICING_ITEM, TIMEOUTS_ITEM } from '../policy/policy-items.js';
import { policyName } from '../policy/policy-name.js';
import { PolicyRegistries, type PolicySnapshot } from '../policy/policy-registries.js';
import { resolveScope } from '../policy/request-scope.js';
import { timeoutHeaders } from '../policy/timeout-policy.js';
import type { Scope } from '../registry/scope.js';
import { resolveTenant } from '../tenant/tenant-resolver.js';
import { BudgetGate, checkBudget, type BudgetGateDeps } from './budget-gate.js';
import { DecisionDeadline } from './decision-deadline.js';
import { formatFromPath } from '../usage/provider-format.js';
import { parseRequestBody } from '../usage/request/llm-request.js';
import { defaultEstimate, estimateRequest } from '../usage/request/prompt-estimator.js';
import type { TollgateConfig } from '../config/tollgate-config.js';
import { systemClock, type Clock } from '../time/clock.js';
import { Exchange } from './exchange.js';
import { circuitOpenAnswer, tenantRequiredAnswer, type PolicyAnswer } from './policy-answer.js';
import type { RequestFacts } from './request-facts.js';
import { resolveUpstream } from './upstream-resolver.js';
import { UsageAccount } from '../usage/usage-account.js';
import { UsageMetrics } from '../usage/usage-metrics.js';
import { UsageRecorder } from './usage-recorder.js';

/** Request headers for the upstream, as name and value. */
export type UpstreamHeaders = ReadonlyArray<readonly [string, string]>;

/**
 * What to do with a request: forward it (with `headers` added to the
 * upstream request, such as the scope's timeout, and report back), or answer
 * it now.
 */
export type Admission =
  | { readonly kind: 'forward'; readonly exchange: Exchange; readonly headers: UpstreamHeaders }
  | { readonly kind: 'answer'; readonly answer: PolicyAnswer; readonly upstream?: string };

/**
 * A decision for a front end that never sees the response (ext_authz): it
 * takes no breaker permit and reserves no budget, so it can only allow or deny.
 */
export type Precheck =
  | {
      readonly kind: 'allow';
      readonly tenant?: string;
      /** Headers to add to the upstream request (the scope's timeout, the remaining budget). */
      readonly headers: UpstreamHeaders;
      readonly remaining?: number;
    }
  | { readonly kind: 'deny'; readonly answer: PolicyAnswer; readonly tenant?: string };

/** The budget side of the engine: the shared ledger and where to log. */
export interface EngineBudgets {
  readonly ledger: BudgetLedger;
  readonly logger: Logger;
  /** Times the decision deadline; the system clock by default. */
  readonly clock?: Clock;
}

/**
 * The policy decisions shared by every front end. ext_proc and ext_authz turn
 * Envoy messages into {@link RequestFacts}, ask the engine, and render its
 * answer; no policy logic lives in the front ends.
 *
 * Each request's policies are resolved from its scope (see `resolveScope`)
 * in the engine's {@link PolicySnapshot}: the service's item, then the
 * namespace's, then an exported one, then the global one.
 */
export class DecisionEngine {
  private readonly decisions: Counter<'decision'>;
  private readonly unguarded: Counter;
  private readonly usageMetrics: UsageMetrics;
  private readonly recorder: UsageRecorder;
  private readonly budgetDeps: BudgetGateDeps | undefined;

  /**
   * `policies` is the snapshot this engine resolves against; by default one
   * built from `config` alone. A ledger in `budgets` should be built on the
   * same snapshot's budgets.
   */
  constructor(
    private readonly config: TollgateConfig,
    private readonly breakers: BreakerSet,
    metrics: Registry,
    budgets?: EngineBudgets,
    /** The policies this engine, and every stream that starts with it, resolves against. */
    readonly policies: PolicySnapshot = PolicyRegistries.snapshotOf(config.policies),
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
    this.usageMetrics = new UsageMetrics(metrics, config.usage);
    this.recorder = new UsageRecorder(config.pricing, this.usageMetrics);
    this.budgetDeps = budgets && {
      ledger: budgets.ledger,
      logger: budgets.logger,
      remainingHeader: config.budgets.remainingHeader,
      failOpenAdmits: counterIn(metrics, {
        name: 'tollgate_budget_fail_open_total',
        help: 'Requests admitted without a budget check because the budget store was unreachable',
      }),
      failOpen: config.budgets.failOpen,
      deadline: new DecisionDeadline({
        ms: config.server.decisionDeadlineMs,
        clock: budgets.clock ?? systemClock,
        logger: budgets.logger,
        failOpen: config.budgets.failOpen,
        exceeded: counterIn(metrics, {
          name: 'tollgate_decision_deadline_exceeded_total',
          help:
            'Budget store steps that missed server.decision_deadline_ms, by operation ' +
            '(reserve, check, settle); the request went on by on_store_error',
          labelNames: ['operation'] as const,
        }),
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

    const scope = resolveScope(this.config.scopeSources, facts);
    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    if (!this.config.breakers.enabled) {
      return this.forward(facts, scope, upstream, tenant, undefined);
    }

    const breaker = upstream === undefined ? undefined : this.breakerFor(upstream, scope);
    if (!breaker) {
      this.unguarded.inc();
      return this.forward(facts, scope, upstream, tenant, undefined);
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

    return this.forward(facts, scope, upstream, tenant, admission.permit);
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

    const scope = resolveScope(this.config.scopeSources, facts);
    const upstream = resolveUpstream(this.config.upstreamSources, facts);
    const breaker =
      this.config.breakers.enabled && upstream ? this.breakerFor(upstream, scope) : undefined;
    const peek = breaker?.peek();
    if (breaker && peek?.open) {
      return this.deny(
        circuitOpenAnswer(breaker.name, peek.retryAfterSeconds, peek.forced),
        tenant,
      );
    }

    const timeout = this.timeoutHeaders(scope);
    const deps = this.budgetDeps;
    if (!deps || tenant === undefined) {
      this.decisions.inc({ decision: 'forward' });
      return { kind: 'allow', tenant, headers: timeout };
    }
    const account = deps.ledger.account(tenant, scope);
    const verdict = await checkBudget(deps, account, this.estimate(facts, body));
    if (verdict.kind === 'answer') return this.deny(verdict.answer, tenant);

    this.decisions.inc({ decision: 'forward' });
    const headers = [...timeout, ...verdict.headers];
    return { kind: 'allow', tenant, headers, remaining: verdict.remaining };
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

  /**
   * The breaker of `upstream` in `scope`. A namespace's, service's or
   * exported breaker is its own, named by its canonical id, so a team's
   * failures never open another team's breaker; otherwise the upstream's
   * global (or dynamic) breaker, as without scopes.
   */
  private breakerFor(upstream: string, scope: Scope): CircuitBreaker | undefined {
    const found = this.policies.breakers.resolveEntry(policyName(upstream), scope);
    // A snapshot older than the breaker set (a stream that began before a
    // reload removed the breaker) falls back to the global one.
    const own = found && found.step !== 'global' && this.breakers.findScoped(found.id.canonical);
    return own || this.breakers.get(upstream);
  }

  private timeoutHeaders(scope: Scope): Array<[string, string]> {
    return timeoutHeaders(this.policies.timeouts.resolve(TIMEOUTS_ITEM, scope));
  }

  /** The recorder that prices with the scope's price list (the global one's, most often). */
  private recorderFor(scope: Scope): UsageRecorder {
    const pricing = this.policies.pricing.resolve(PRICING_ITEM, scope);
    return pricing === this.config.pricing
      ? this.recorder
      : new UsageRecorder(pricing, this.usageMetrics);
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
    scope: Scope,
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
    const budget =
      deps && tenant !== undefined
        ? new BudgetGate(deps, deps.ledger.account(tenant, scope))
        : undefined;
    const recorder = this.recorderFor(scope);
    const exchange = new Exchange(upstream, permit, usage, recorder, budget, tenant);
    return { kind: 'forward', exchange, headers: this.timeoutHeaders(scope) };
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
