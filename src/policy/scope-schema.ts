import { z } from 'zod';

import { parseScopeText } from './request-scope.js';
import { SCOPE_PART_RULE } from './policy-name.js';

const headerName = z
  .string()
  .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a lower-case HTTP header name');

const scopeText = z.string().refine((text) => parseScopeText(text) !== undefined, {
  message: `expected NAMESPACE or NAMESPACE:SERVICE, each ${SCOPE_PART_RULE}`,
});

const headersSourceSchema = z.strictObject({
  /** Header naming the request's namespace. */
  namespace: headerName.default('x-tollgate-namespace'),
  /** Header naming its service in that namespace; null reads none. */
  service: headerName.nullable().default('x-tollgate-service'),
});

const metadataSourceSchema = z.strictObject({
  /** Envoy metadata namespace forwarded to tollgate (`forwarding_namespaces`). */
  namespace: z
    .string({ error: 'expected a metadata namespace, e.g. envoy.filters.http.jwt_authn' })
    .min(1, 'expected a metadata namespace'),
  /** Dotted path to a string `NAMESPACE` or `NAMESPACE:SERVICE` inside it. */
  path: z
    .string({ error: 'expected a dotted path such as payload.team' })
    .min(1, 'expected a dotted path such as payload.team'),
});

const SOURCE_KINDS = ['headers', 'metadata', 'route'] as const;

/** One place a request's scope may come from; each entry names exactly one kind. */
const scopeSourceSchema = z
  .strictObject({
    /** Request headers (which Envoy must strip from client requests). */
    headers: headersSourceSchema.optional(),
    /** A value in Envoy metadata, e.g. a JWT claim. */
    metadata: metadataSourceSchema.optional(),
    /** Route name (the `xds.route_name` attribute) → `NAMESPACE` or `NAMESPACE:SERVICE`. */
    route: z.record(z.string().min(1, 'a route name cannot be empty'), scopeText).optional(),
  })
  .refine((entry) => SOURCE_KINDS.filter((kind) => entry[kind] !== undefined).length === 1, {
    message:
      'expected exactly one of {headers: {namespace, service}}, {metadata: {namespace, path}} ' +
      'or {route: {ROUTE_NAME: NAMESPACE[:SERVICE]}}',
  });

/**
 * The `scope:` section: where a request's namespace and service come from.
 * The first source that names a namespace wins, and the service comes from
 * that same source; a request no source places is in the global scope.
 */
export const scopeSchema = z.strictObject({
  /** Sources in order of precedence; `[]` puts every request in the global scope. */
  sources: z.array(scopeSourceSchema).default([{ headers: headersSourceSchema.parse({}) }]),
});

/** The `scope:` section as written, after defaults. */
export type ScopeFile = z.output<typeof scopeSchema>;
