import { z } from 'zod';

import { wholeNumber } from '../config/schema-helpers.js';
import type { BreakerSettings } from './breaker-settings.js';
import { compileStatusMatcher } from './status-matcher.js';

/** A status spec: an exact code (`503`), a class (`5xx`) or a range (`500-504`). */
export const statusSpec = z
  .union([z.number(), z.string()])
  .transform((value) => String(value).trim().toLowerCase())
  .refine(isStatusSpec, {
    message: 'expected a status 100-599 like 503, a class like 5xx, or a range like 500-504',
  });

function isStatusSpec(spec: string): boolean {
  if (/^[1-5]xx$/.test(spec)) return true;

  const match = /^(\d{3})(?:-(\d{3}))?$/.exec(spec);
  if (!match) return false;
  const low = Number(match[1]);
  const high = Number(match[2] ?? match[1]);
  return low >= 100 && high <= 599 && low <= high;
}

const breakerFields = {
  /** Consecutive failures that open a closed breaker. */
  failure_threshold: wholeNumber(1, 1_000_000),
  /** Consecutive trial successes that close a half-open breaker. */
  success_threshold: wholeNumber(1, 1_000_000),
  /** How long an open breaker rejects before it admits trials. */
  timeout_seconds: z.number().positive('must be more than 0').max(86_400, 'must be at most 86400'),
  /** How many trial requests a half-open breaker lets through at once. */
  half_open_max_requests: wholeNumber(1, 10_000),
  /** Response statuses that count as failures; any other status is a success. */
  failure_statuses: z.array(statusSpec).min(1),
};

const breakerDefaultsSchema = z.strictObject({
  failure_threshold: breakerFields.failure_threshold.default(5),
  success_threshold: breakerFields.success_threshold.default(2),
  timeout_seconds: breakerFields.timeout_seconds.default(30),
  half_open_max_requests: breakerFields.half_open_max_requests.default(1),
  failure_statuses: breakerFields.failure_statuses.default(['5xx']),
});

/** One breaker's overrides of `defaults`: every field optional. */
export const breakerOverrideSchema = z.strictObject({
  failure_threshold: breakerFields.failure_threshold.optional(),
  success_threshold: breakerFields.success_threshold.optional(),
  timeout_seconds: breakerFields.timeout_seconds.optional(),
  half_open_max_requests: breakerFields.half_open_max_requests.optional(),
  failure_statuses: breakerFields.failure_statuses.optional(),
});

/** The `circuit_breakers:` section. */
export const circuitBreakersSchema = z.strictObject({
  /** Turns breaker enforcement on or off as a whole. */
  enabled: z.boolean().default(true),
  /** Settings for every upstream without its own entry. */
  defaults: breakerDefaultsSchema.prefault({}),
  /** Per-upstream overrides, keyed by upstream name; unset fields inherit `defaults`. */
  upstreams: z
    .record(
      z.string().min(1, 'an upstream name cannot be empty'),
      // `name:` with nothing under it means "use the defaults".
      breakerOverrideSchema.nullable().transform((override) => override ?? {}),
    )
    .default({}),
  /**
   * The most breakers created on the fly for upstreams that have no entry.
   * Bounds memory and metric cardinality when the upstream comes from a
   * client-controlled source such as `:authority`; past it, requests to new
   * upstreams pass unguarded and are counted.
   */
  max_dynamic_breakers: wholeNumber(0, 100_000).default(256),
});

/** Settings of one breaker as written in the file, after defaults. */
export type BreakerFileSettings = z.output<typeof breakerDefaultsSchema>;

/** One breaker's overrides as written in the file. */
export type BreakerOverrideFile = z.output<typeof breakerOverrideSchema>;

/**
 * Compiles one breaker's settings: `defaults` with the fields `override`
 * sets on top (fields it leaves unset, or other keys such as `export`, change
 * nothing).
 */
export function compileBreakerSettings(
  defaults: BreakerFileSettings,
  override: BreakerOverrideFile = {},
): BreakerSettings {
  const pick = <K extends keyof BreakerFileSettings>(key: K): BreakerFileSettings[K] =>
    (override[key] as BreakerFileSettings[K] | undefined) ?? defaults[key];

  return {
    failureThreshold: pick('failure_threshold'),
    successThreshold: pick('success_threshold'),
    timeoutSeconds: pick('timeout_seconds'),
    halfOpenMaxRequests: pick('half_open_max_requests'),
    isFailureStatus: compileStatusMatcher(pick('failure_statuses')),
  };
}
