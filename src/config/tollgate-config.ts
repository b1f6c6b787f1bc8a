import path from 'node:path';

import type { AdminAuthSettings } from '../admin/admin-auth.js';
import { compileBreakerSettings } from '../breaker/breaker-schema.js';
import type { BreakerSettings } from '../breaker/breaker-settings.js';
import { compileBudgets, type BudgetsConfig } from '../budget/budgets-config.js';
import { PricingTable } from '../cost/pricing-table.js';
import { compileClusters, type ClusterHealthConfig } from '../health/health-config.js';
import { compileTenantPolicy, type TenantPolicy } from '../tenant/tenant-source.js';
import { compileUsagePolicy, type UsagePolicy } from '../usage/usage-policy.js';
import { compilePolicies, scopedBreakers, type PolicyItems } from '../policy/policy-items.js';
import { compileScopeSources, type ScopeSource } from '../policy/request-scope.js';
import type { TimeoutPolicy } from '../policy/timeout-policy.js';
import type { ConfigFile } from './schema.js';
import { readSecret } from './secret-source.js';

/** Where a request's upstream name is read from. */
export type UpstreamSource =
  { kind: 'attribute'; name: string } | { kind: 'header'; name: string } | { kind: 'authority' };

/** TLS settings for the gRPC port. */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
  requireClientCert: boolean;
}

/** The running config: validated, defaults filled, patterns compiled, frozen. */
export interface TollgateConfig {
  readonly source: { readonly file: string; readonly version: string };
  readonly server: {
    readonly grpcAddress: string;
    readonly adminAddress: string;
    readonly drainTimeoutSeconds: number;
    readonly maxMessageBytes: number;
    /** How long a budget decision may wait for the store; see `server.decision_deadline_ms`. */
    readonly decisionDeadlineMs: number;
    readonly tls?: TlsConfig;
    /** Who may use the admin port. */
    readonly adminAuth: AdminAuthSettings;
  };
  readonly logLevel: string;
  readonly upstreamSources: readonly UpstreamSource[];
  readonly breakers: {
    readonly enabled: boolean;
    readonly defaults: BreakerSettings;
    readonly upstreams: ReadonlyMap<string, BreakerSettings>;
    /** Breakers of namespaces and services, by canonical id (`payments:api:llm`). */
    readonly scoped: ReadonlyMap<string, BreakerSettings>;
    readonly maxDynamic: number;
  };
  readonly usage: UsagePolicy;
  /** The price list, or undefined when cost attribution is off. */
  readonly pricing?: PricingTable;
  /** How a request's tenant is identified. */
  readonly tenants: TenantPolicy;
  /** Per-tenant token budgets. */
  readonly budgets: BudgetsConfig;
  /** Inference backends probed and published over EDS. */
  readonly clusters: readonly ClusterHealthConfig[];
  /** Where a request's namespace and service come from, in order of precedence. */
  readonly scopeSources: readonly ScopeSource[];
  /** The global upstream timeout, when the file sets one. */
  readonly timeouts?: TimeoutPolicy;
  /** Every policy item, global and scoped, for the scoped registries. */
  readonly policies: PolicyItems;
  /** The configured namespaces, in file order. */
  readonly namespaces: readonly string[];
}

/** Turns a schema-validated file into the running config. */
export function compileConfig(
  file: ConfigFile,
  source: { file: string; version: string },
): TollgateConfig {
  const defaults = file.circuit_breakers.defaults;
  const upstreams = new Map<string, BreakerSettings>();
  for (const [name, override] of Object.entries(file.circuit_breakers.upstreams)) {
    upstreams.set(name, compileBreakerSettings(defaults, override));
  }
  const pricing = file.cost_attribution.enabled
    ? new PricingTable(file.cost_attribution)
    : undefined;
  const budgets = compileBudgets(file.budgets, source.file);
  const timeouts = file.timeouts && { upstreamSeconds: file.timeouts.upstream_seconds };
  const policies = compilePolicies(
    { breakers: upstreams, budgets: budgets.tenants, pricing, timeouts },
    file.namespaces,
    defaults,
  );

  const tls = file.server.tls;
  return deepFreeze({
    source,
    server: {
      grpcAddress: file.server.grpc_address,
      adminAddress: file.server.admin_address,
      drainTimeoutSeconds: file.server.drain_timeout_seconds,
      maxMessageBytes: file.server.max_message_bytes,
      decisionDeadlineMs: file.server.decision_deadline_ms,
      tls: tls && {
        certFile: besideConfig(source.file, tls.cert_file),
        keyFile: besideConfig(source.file, tls.key_file),
        clientCaFile: tls.client_ca_file && besideConfig(source.file, tls.client_ca_file),
        requireClientCert: tls.require_client_cert,
      },
      adminAuth: compileAdminAuth(file.server.admin_auth),
    },
    logLevel: file.logging.level,
    upstreamSources: file.upstream.sources.map(toUpstreamSource),
    breakers: {
      enabled: file.circuit_breakers.enabled,
      defaults: compileBreakerSettings(defaults),
      upstreams,
      scoped: scopedBreakers(policies),
      maxDynamic: file.circuit_breakers.max_dynamic_breakers,
    },
    usage: compileUsagePolicy(file.usage),
    pricing,
    tenants: compileTenantPolicy(file.tenants),
    budgets,
    clusters: compileClusters(file.clusters, source.file),
    scopeSources: compileScopeSources(file.scope),
    timeouts,
    policies,
    namespaces: Object.keys(file.namespaces),
  });
}

/** Returns a copy of `config` with other listen addresses (from command-line flags). */
export function withAddresses(
  config: TollgateConfig,
  addresses: { grpcAddress?: string; adminAddress?: string },
): TollgateConfig {
  const server = {
    ...config.server,
    grpcAddress: addresses.grpcAddress ?? config.server.grpcAddress,
    adminAddress: addresses.adminAddress ?? config.server.adminAddress,
  };
  return Object.freeze({ ...config, server: Object.freeze(server) });
}

// The token may also come from the environment alone, for deployments that
// keep every secret out of the file.
function compileAdminAuth(file: ConfigFile['server']['admin_auth']): AdminAuthSettings {
  const fromEnv = process.env.TOLLGATE_ADMIN_TOKEN;
  const token = file.token
    ? readSecret(file.token)
    : fromEnv
      ? readSecret({ env: 'TOLLGATE_ADMIN_TOKEN' })
      : undefined;
  return { token, protectReads: file.protect_reads };
}

/** Resolves a path written in the config relative to the config file's folder. */
function besideConfig(configFile: string, file: string): string {
  return path.resolve(path.dirname(configFile), file);
}

function toUpstreamSource(spec: string): UpstreamSource {
  if (spec === 'authority') return { kind: 'authority' };

  const [kind, ...rest] = spec.split(':');
  const name = rest.join(':');
  return kind === 'header' ? { kind: 'header', name } : { kind: 'attribute', name };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!(value instanceof Map)) Object.values(value).forEach(deepFreeze);
  }
  return value;
}
