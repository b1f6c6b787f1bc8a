import { createHash } from 'node:crypto';

import type { RequestFacts } from '../engine/request-facts.js';
import type { TenantPolicy, TenantSource } from './tenant-source.js';

/** Tenant ids are 1–128 visible ASCII characters; anything else is treated as absent. */
const USABLE_TENANT = /^[\x21-\x7e]{1,128}$/;

/** Hex digits of the SHA-256 kept in a tenant id derived from an API key (64 bits). */
const KEY_HASH_DIGITS = 16;

/** Who a request is charged to, and which source said so. */
export type TenantIdentity =
  | { readonly tenant: string; readonly from: TenantSource['kind'] | 'default' }
  | { readonly tenant: undefined; readonly from: 'none' };

/**
 * Reads a request's tenant from the configured sources, first usable value
 * wins, falling back to the default tenant. Only the sources the operator
 * configured are read: when the tenant comes from JWT metadata, a client's
 * `x-tenant-id` header is ignored.
 */
export function resolveTenant(policy: TenantPolicy, facts: RequestFacts): TenantIdentity {
  for (const source of policy.sources) {
    const tenant = readSource(source, facts);
    if (tenant !== undefined && USABLE_TENANT.test(tenant)) return { tenant, from: source.kind };
  }

  if (policy.defaultTenant !== undefined) return { tenant: policy.defaultTenant, from: 'default' };
  return { tenant: undefined, from: 'none' };
}

/**
 * The tenant id of an API key: `key-` and the first 16 hex digits of the
 * key's SHA-256. The key itself is never kept or logged. A `Bearer ` prefix is
 * dropped, so `authorization: Bearer K` and `x-api-key: K` give the same id.
 */
export function apiKeyTenant(headerValue: string): string | undefined {
  const key = headerValue.replace(/^bearer\s+/i, '').trim();
  if (key.length === 0) return undefined;

  const digest = createHash('sha256').update(key, 'utf8').digest('hex');
  return `key-${digest.slice(0, KEY_HASH_DIGITS)}`;
}

function readSource(source: TenantSource, facts: RequestFacts): string | undefined {
  switch (source.kind) {
    case 'header':
      return facts.headers.get(source.name);
    case 'api_key': {
      const value = facts.headers.get(source.header);
      return value === undefined ? undefined : apiKeyTenant(value);
    }
    case 'metadata':
      return metadataText(facts.metadata?.get(source.namespace), source.path);
  }
}

function metadataText(root: unknown, path: readonly string[]): string | undefined {
  let value = root;
  for (const part of path) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }

  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
