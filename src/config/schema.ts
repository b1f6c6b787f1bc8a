import { z } from 'zod';

import { circuitBreakersSchema } from '../breaker/breaker-schema.js';
import { budgetsNeedUsage, budgetsSchema } from '../budget/budget-schema.js';
import { costAttributionSchema } from '../cost/pricing-schema.js';
import { clustersSchema } from '../health/health-schema.js';
import { namespacesSchema } from '../policy/namespaces-schema.js';
import { ALWAYS, checkScopedPolicies } from '../policy/policy-checks.js';
import { scopeSchema } from '../policy/scope-schema.js';
import { timeoutsSchema } from '../policy/timeout-policy.js';
import { tenantsSchema } from '../tenant/tenant-schema.js';
import { usageSchema } from '../usage/usage-schema.js';
import { wholeNumber } from './schema-helpers.js';
import { secretSourceSchema } from './secret-source.js';

export { wholeNumber };

/**
 * The YAML file's schema. Every object is strict (an unknown key is an error,
 * so a typo never silently falls back to a default), every field documents
 * itself, and defaults are filled here once.
 */

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` or `[ipv6]:port`, port 0–65535 (0 picks a free port). */
export const listenAddress = z
  .string()
  .regex(ADDRESS, 'expected host:port, e.g. 127.0.0.1:50051 or [::1]:50051')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, {
    message: 'port must be between 0 and 65535',
  });

const filePath = (whenMissing: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? whenMissing : 'expected a path') })
    .min(1, 'expected a path');

const tlsSchema = z
  .strictObject({
    /** PEM certificate chain served on the gRPC port. */
    cert_file: filePath('cert_file (the PEM certificate) is required when tls is set'),
    /** PEM private key for `cert_file`. */
    key_file: filePath('key_file (the PEM private key) is required when tls is set'),
    /** PEM bundle of CAs that sign client certificates (enables mTLS). */
    client_ca_file: filePath('expected a path').optional(),
    /** Reject clients that present no certificate signed by `client_ca_file`. */
    require_client_cert: z.boolean().default(false),
  })
  .refine((tls) => !tls.require_client_cert || tls.client_ca_file !== undefined, {
    message: 'require_client_cert needs client_ca_file: the CAs that sign client certificates',
    path: ['client_ca_file'],
  });

const adminAuthSchema = z
  .strictObject({
    /**
     * Bearer token the admin controls (every POST) require; without one they
     * are refused unless the admin port is on loopback. Unset: the
     * TOLLGATE_ADMIN_TOKEN environment variable, when set.
     */
    token: secretSourceSchema.optional(),
    /** Require the token for reads too (`/metrics`, `/status`, ...); probes stay open. */
    protect_reads: z.boolean().default(false),
  })
  .superRefine(adminTokenIsLongEnough);

const MIN_ADMIN_TOKEN = 16;

// A short token can be guessed over the network; the environment's fallback
// is held to the same rule (an unset variable is reported by its source).
function adminTokenIsLongEnough(
  auth: { token?: { value: string } | { env: string } },
  context: z.RefinementCtx,
): void {
  const token = auth.token
    ? 'value' in auth.token
      ? auth.token.value
      : process.env[auth.token.env]
    : process.env.TOLLGATE_ADMIN_TOKEN || undefined;
  if (!token || token.length >= MIN_ADMIN_TOKEN) return;

  context.addIssue({
    code: 'custom',
    path: auth.token ? ['token'] : [],
    message:
      `the admin token (${auth.token ? 'token' : 'TOLLGATE_ADMIN_TOKEN'}) must be at least ` +
      `${MIN_ADMIN_TOKEN} characters, e.g. from openssl rand -hex 16`,
  });
}

const serverSchema = z.strictObject({
  /** Where the gRPC services (ext_proc, health) listen. */
  grpc_address: listenAddress.default('127.0.0.1:50051'),
  /** Where the admin HTTP port (metrics, status, breaker controls) listens. */
  admin_address: listenAddress.default('127.0.0.1:9464'),
  /** On SIGTERM/SIGINT, how long streams in flight may take to finish. */
  drain_timeout_seconds: z
    .number()
    .positive('must be more than 0')
    .max(3600, 'must be at most 3600')
    .default(15),
  /** The largest gRPC message accepted or sent. Envoy's body buffer is 1 MiB by default. */
  max_message_bytes: wholeNumber(64 * 1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
  /**
   * The longest a budget decision may wait for the store before the request
   * is answered by `budgets.on_store_error`; keep it under Envoy's
   * `message_timeout` (200 ms by default).
   */
  decision_deadline_ms: wholeNumber(1, 60_000).default(150),
  /** TLS for the gRPC port; plaintext when absent. */
  tls: tlsSchema.optional(),
  /** Who may use the admin port; see `admin-auth.ts`. */
  admin_auth: adminAuthSchema.prefault({}),
});

const loggingSchema = z.strictObject({
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const UPSTREAM_SOURCE = /^(attribute:[\w.-]+|header:[a-z0-9!#$%&'*+.^_`|~-]+|authority)$/;

const upstreamSchema = z.strictObject({
  /**
   * Where a request's upstream name is read from, first match wins:
   * `attribute:NAME` (an Envoy attribute listed in the filter's
   * `request_attributes`, e.g. `xds.cluster_name`), `header:NAME` (lower case),
   * or `authority`.
   */
  sources: z
    .array(
      z
        .string()
        .regex(UPSTREAM_SOURCE, 'expected attribute:NAME, header:NAME (lower case) or authority'),
    )
    .min(1)
    .default(['attribute:xds.cluster_name', 'header:x-tollgate-upstream', 'authority']),
});

/**
 * Top-level keys starting with `x-` are free for YAML anchors that other
 * sections merge in (`<<: *defaults`); they are not config. A section written
 * with nothing under it (`server:`, which YAML reads as null) means its
 * defaults, like a section left out.
 */
function withoutExtensionKeys(file: unknown): unknown {
  if (!file || typeof file !== 'object' || Array.isArray(file)) return file;
  return Object.fromEntries(
    Object.entries(file).filter(([key, value]) => !key.startsWith('x-') && value !== null),
  );
}

/** The whole YAML file. */
export const configSchema = z.preprocess(
  withoutExtensionKeys,
  z
    .strictObject({
      server: serverSchema.prefault({}),
      logging: loggingSchema.prefault({}),
      upstream: upstreamSchema.prefault({}),
      circuit_breakers: circuitBreakersSchema.prefault({}),
      usage: usageSchema.prefault({}),
      cost_attribution: costAttributionSchema.prefault({}),
      tenants: tenantsSchema.prefault({}),
      budgets: budgetsSchema.prefault({}),
      /** Inference backends probed and published to Envoy over EDS. */
      clusters: clustersSchema,
      /** Where a request's namespace and service (its policy scope) come from. */
      scope: scopeSchema.prefault({}),
      /** The global upstream timeout; absent leaves Envoy's route timeout alone. */
      timeouts: timeoutsSchema.optional(),
      /** Breakers, budgets, prices and timeouts per namespace and service. */
      namespaces: namespacesSchema,
    })
    .superRefine(budgetsNeedUsage)
    .superRefine(checkScopedPolicies, ALWAYS),
);

/** The validated file, with defaults filled in. */
export type ConfigFile = z.output<typeof configSchema>;

export type { BreakerFileSettings } from '../breaker/breaker-schema.js';
