import { z } from 'zod';

import { secretSourceSchema, type SecretSource } from '../config/secret-source.js';
import { wholeNumber } from '../config/schema-helpers.js';
import { overlappingParts, TOKEN_PARTS } from './token-count.js';

/** The largest budget limit: far below 2^53, so sums with burst and rollover stay exact. */
export const MAX_BUDGET_LIMIT = 1e15;

const DAY_SECONDS = 86_400;

const periodSchema = z.union(
  [
    z.enum(['hourly', 'daily', 'monthly']),
    z.strictObject({
      /** Length in seconds; periods are aligned to multiples of it since the Unix epoch. */
      custom_seconds: wholeNumber(1, 3660 * DAY_SECONDS),
    }),
  ],
  { error: 'expected hourly, daily, monthly or {custom_seconds: N}' },
);

const thresholdsSchema = z
  .array(
    z
      .number({ error: 'expected a fraction such as 0.8' })
      .gt(0, 'a threshold must be more than 0')
      .max(2, 'a threshold is a fraction of the limit, at most 2 (200%, for burst)'),
  )
  .refine((list) => list.every((value, i) => i === 0 || value > list[i - 1]!), {
    message: 'thresholds must be strictly ascending, e.g. [0.8, 0.9, 0.95]',
  });

const countSchema = z
  .array(z.enum(TOKEN_PARTS, { error: `expected one of ${TOKEN_PARTS.join(', ')}` }))
  .min(1, 'count at least one kind of token')
  .refine((list) => new Set(list).size === list.length, { message: 'a token kind is listed twice' })
  .superRefine((list, context) => {
    const overlap = overlappingParts(list);
    if (!overlap) return;

    context.addIssue({
      code: 'custom',
      message:
        `${overlap[0]} already includes ${overlap[1]}: ` + 'listing both counts those tokens twice',
    });
  });

const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** One tenant's budget. */
export const budgetSchema = z.strictObject({
  /** How long the budget lasts before it starts again (UTC calendar aligned). */
  period: periodSchema,
  /** Tokens the tenant may spend per period. */
  limit: wholeNumber(1, MAX_BUDGET_LIMIT),
  /** Fractions of `limit` at which settled usage raises an alert, once per period each. */
  alert_thresholds: thresholdsSchema.default([0.8, 0.9, 0.95]),
  /** Refuse requests past the limit (429); when false, only report and alert. */
  enforce: z.boolean().default(true),
  /** Carry the unused tokens of the previous period over, up to one extra `limit`. */
  rollover: z.boolean().default(false),
  /** Fraction of the allowance a tenant may overspend (answered Soft); absent for none. */
  burst_allowance: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').optional(),
  /** Which token counts are charged to the budget. */
  count: countSchema.default(['input', 'output']),
});

const embeddedStoreSchema = z.strictObject({
  backend: z.literal('embedded'),
  /** SQLite file, relative to the config file's folder; the folder is created. */
  path: z.string().min(1, 'expected a file path').default('./data/tollgate-budgets.db'),
});

const redisStoreSchema = z.strictObject({
  backend: z.literal('redis'),
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port or rediss://host:port')
    .default('redis://127.0.0.1:6379'),
  /** Prefix of every key tollgate writes. */
  key_prefix: z.string().default('tollgate:'),
  /** A command that takes longer fails, so a stuck Redis cannot hold requests. */
  command_timeout_ms: wholeNumber(10, 60_000).default(500),
  /** How long a connection attempt may take. */
  connect_timeout_ms: wholeNumber(10, 60_000).default(1000),
});

const storeSchema = z.discriminatedUnion('backend', [embeddedStoreSchema, redisStoreSchema], {
  error: 'expected {backend: embedded, path: FILE} or {backend: redis, url: redis://HOST:PORT}',
});

const webhookSchema = z.strictObject({
  /** Where each alert is POSTed as JSON. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  /** How long one attempt may take. */
  timeout_ms: wholeNumber(1, 120_000).default(5000),
  /** Attempts after the first, with doubling waits between them. */
  retries: wholeNumber(0, 10).default(3),
  /** The wait before the first retry; each later one waits twice as long. */
  backoff_ms: wholeNumber(1, 600_000).default(500),
  /** Extra request headers, e.g. a token; values are never logged. */
  headers: z
    .record(z.string().regex(HEADER_TOKEN, 'expected a header name'), secretSourceSchema)
    .default({}),
});

const alertsSchema = z.strictObject({
  /** Also POST alerts to this endpoint (off the request path). */
  webhook: webhookSchema.optional(),
});

/** The `budgets:` section: per-tenant token budgets. */
export const budgetsSchema = z.strictObject({
  /** Turns token budgets on. */
  enabled: z.boolean().default(false),
  /** Where usage is kept: a local SQLite file, or Redis shared by replicas. */
  store: storeSchema.prefault({ backend: 'embedded' }),
  /** When the store is unreachable: admit (fail_open) or answer 503 (fail_closed). */
  on_store_error: z.enum(['fail_open', 'fail_closed']).default('fail_open'),
  /** A reservation never settled (a crashed process) is dropped after this long. */
  reservation_ttl_seconds: wholeNumber(1, 7 * DAY_SECONDS).default(600),
  /** Decide on the request body's estimate, or at the headers with the default estimate. */
  decide_at: z.enum(['body', 'headers']).default('body'),
  /** Upstream request header carrying the remaining budget; null sends none. */
  remaining_header: z
    .string()
    .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a lower-case header name')
    .nullable()
    .default('x-tollgate-budget-remaining'),
  /** Budgets by tenant id; `default` applies to tenants without an entry. */
  tenants: z.record(z.string().min(1, 'a tenant id cannot be empty'), budgetSchema).default({}),
  /** Where alerts go besides the log and the metric. */
  alerts: alertsSchema.prefault({}),
});

/** The validated `budgets:` section. */
export type BudgetsFile = z.output<typeof budgetsSchema>;

/** One budget as written, after defaults. */
export type BudgetFile = z.output<typeof budgetSchema>;

/** A webhook header as written: a literal value or an environment variable. */
export type WebhookHeaderFile = SecretSource;

/**
 * Top-level check: budgets charge the usage that `usage:` reads from
 * responses, so they cannot work with usage reading off.
 */
export function budgetsNeedUsage(
  file: { budgets: { enabled: boolean }; usage: { enabled: boolean } },
  context: z.RefinementCtx,
): void {
  if (!file.budgets.enabled || file.usage.enabled) return;

  context.addIssue({
    code: 'custom',
    path: ['budgets', 'enabled'],
    message:
      'budgets need usage reading to charge what responses used: set usage.enabled: true, ' +
      'or budgets.enabled: false',
  });
}
