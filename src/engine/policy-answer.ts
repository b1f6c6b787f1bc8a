/**
 * A deliberate answer tollgate gives instead of forwarding the request: the
 * HTTP status, headers and JSON body the client sees, and a short code for
 * Envoy's `%RESPONSE_CODE_DETAILS%`. Each front end renders it in its own
 * message (ext_proc ImmediateResponse, ext_authz DeniedHttpResponse).
 */
export interface PolicyAnswer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Readonly<Record<string, unknown>>;
  /** No whitespace: Envoy shows it verbatim in access logs. */
  readonly details: string;
}

/**
 * The 503 an open (or saturated half-open) breaker answers with. A breaker
 * forced open from the admin port stays open until reset, and says so.
 */
export function circuitOpenAnswer(
  upstream: string,
  retryAfterSeconds: number,
  forced: boolean,
): PolicyAnswer {
  const why = forced
    ? 'was opened by an operator and stays open until it is reset'
    : `is open after repeated failures; retry in ${retryAfterSeconds}s`;

  return {
    status: 503,
    headers: [
      ['retry-after', String(retryAfterSeconds)],
      ['content-type', 'application/json'],
      ['x-tollgate-decision', 'circuit_open'],
    ],
    body: {
      error: {
        type: 'circuit_open',
        code: 'upstream_unavailable',
        message: `The circuit breaker for upstream "${upstream}" ${why}.`,
        upstream,
        retry_after_seconds: retryAfterSeconds,
      },
    },
    details: forced ? 'tollgate_circuit_forced_open' : 'tollgate_circuit_open',
  };
}

/** What a 429 tells the client about the budget that ran out. */
export interface ExhaustedBudget {
  readonly tenant: string;
  readonly limit: number;
  /** Seconds until the next period starts (at least 1). */
  readonly retryAfterSeconds: number;
  /** The next period's start, Unix seconds. */
  readonly resetAt: number;
}

/**
 * The 429 an exhausted token budget answers with. The body has OpenAI's error
 * shape, so SDK clients show the message; the `x-ratelimit-*` headers follow
 * the convention LLM clients already read.
 */
export function budgetExhaustedAnswer(budget: ExhaustedBudget): PolicyAnswer {
  const retry = String(budget.retryAfterSeconds);
  return {
    status: 429,
    headers: [
      ['retry-after', retry],
      ['x-ratelimit-limit', String(budget.limit)],
      ['x-ratelimit-remaining', '0'],
      ['x-ratelimit-reset', retry],
      ['content-type', 'application/json'],
      ['x-tollgate-decision', 'budget_exhausted'],
    ],
    body: {
      error: {
        message:
          `The token budget of tenant "${budget.tenant}" (${budget.limit} tokens) is ` +
          `used up for this period; it renews in ${retry}s.`,
        type: 'insufficient_quota',
        code: 'budget_exhausted',
        param: null,
        retry_after_seconds: budget.retryAfterSeconds,
        reset_at: new Date(budget.resetAt * 1000).toISOString(),
      },
    },
    details: 'tollgate_budget_exhausted',
  };
}

/** The 401 for a request that names no tenant when tenants are required. */
export function tenantRequiredAnswer(): PolicyAnswer {
  return {
    status: 401,
    headers: [
      ['content-type', 'application/json'],
      ['x-tollgate-decision', 'tenant_required'],
    ],
    body: {
      error: {
        message:
          'This gateway charges every request to a tenant, and this request names none. ' +
          'Send the tenant header or credentials your operator configured.',
        type: 'invalid_request_error',
        code: 'tenant_required',
        param: null,
      },
    },
    details: 'tollgate_tenant_required',
  };
}

/**
 * The 503 for a request whose budget could not be checked because the budget
 * store is unreachable and the config says `on_store_error: fail_closed`.
 */
export function budgetUnavailableAnswer(retryAfterSeconds: number): PolicyAnswer {
  return {
    status: 503,
    headers: [
      ['retry-after', String(retryAfterSeconds)],
      ['content-type', 'application/json'],
      ['x-tollgate-decision', 'budget_unavailable'],
    ],
    body: {
      error: {
        message: 'The token budget could not be checked (budget store unreachable); retry later.',
        type: 'budget_unavailable',
        code: 'budget_store_unavailable',
        param: null,
        retry_after_seconds: retryAfterSeconds,
      },
    },
    details: 'tollgate_budget_unavailable',
  };
}
