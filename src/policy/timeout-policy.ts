import { z } from 'zod';

/**
 * The request header Envoy's router reads as the whole request's timeout, in
 * milliseconds, in place of the route's `timeout`. Envoy strips it from
 * untrusted clients; a filter (ext_proc, ext_authz) may set it after that.
 */
export const UPSTREAM_TIMEOUT_HEADER = 'x-envoy-upstream-rq-timeout-ms';

/** A compiled `timeouts` item. */
export interface TimeoutPolicy {
  /** Seconds Envoy gives the upstream for the whole response; 0 for no limit. */
  readonly upstreamSeconds: number;
}

/** The `timeouts:` fields, at the top level and in namespaces and services. */
export const timeoutFields = {
  /**
   * How long Envoy gives the upstream for the whole response, streamed ones
   * included, in seconds (millisecond precision); 0 turns the limit off.
   */
  upstream_seconds: z
    .number({ error: 'expected a number of seconds' })
    .min(0, 'must be at least 0')
    .max(86_400, 'must be at most 86400')
    .refine((seconds) => seconds === 0 || seconds >= 0.001, {
      message: 'must be 0 (no limit) or at least 0.001 (one millisecond)',
    }),
};

/** The top-level `timeouts:` section: the global timeout item. */
export const timeoutsSchema = z.strictObject(timeoutFields);

/** The headers that carry `policy` to Envoy's router. */
export function timeoutHeaders(policy: TimeoutPolicy | undefined): Array<[string, string]> {
  if (!policy) return [];
  return [[UPSTREAM_TIMEOUT_HEADER, String(Math.round(policy.upstreamSeconds * 1000))]];
}
