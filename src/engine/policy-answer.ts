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
