import { DEFAULT_TENANT, type TenantsFile } from './tenant-schema.js';

/** One place a request's tenant id is read from. */
export type TenantSource =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'metadata'; readonly namespace: string; readonly path: readonly string[] }
  | { readonly kind: 'api_key'; readonly header: string };

/** How tenants are identified, compiled from the `tenants:` section. */
export interface TenantPolicy {
  readonly sources: readonly TenantSource[];
  /** The tenant of a request no source names; unset exactly when `required`. */
  readonly defaultTenant?: string;
  /** A request no source names is answered 401. */
  readonly required: boolean;
}

/** Compiles the `tenants:` section. */
export function compileTenantPolicy(file: TenantsFile): TenantPolicy {
  return {
    sources: file.sources.map(toSource),
    defaultTenant: file.required ? undefined : (file.default_tenant ?? DEFAULT_TENANT),
    required: file.required,
  };
}

function toSource(entry: TenantsFile['sources'][number]): TenantSource {
  if ('header' in entry) return { kind: 'header', name: entry.header };
  if ('api_key_header' in entry) return { kind: 'api_key', header: entry.api_key_header };
  return {
    kind: 'metadata',
    namespace: entry.metadata.namespace,
    path: entry.metadata.path.split('.'),
  };
}
