import { z } from 'zod';

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

const headerName = z
  .string()
  .regex(HEADER_NAME, 'expected a lower-case HTTP header name such as x-tenant-id');

const metadataSourceSchema = z.strictObject({
  /** The metadata namespace Envoy forwards, e.g. `envoy.filters.http.jwt_authn`. */
  namespace: z.string().min(1, 'expected a metadata namespace'),
  /** Dotted path inside it, e.g. `payload.sub` (the JWT filter's `payload_in_metadata`). */
  path: z.string().min(1, 'expected a dotted path such as payload.sub'),
});

/** One place a tenant id may come from; each entry names exactly one kind. */
const tenantSourceSchema = z.union(
  [
    z.strictObject({ header: headerName }),
    z.strictObject({ metadata: metadataSourceSchema }),
    z.strictObject({ api_key_header: headerName }),
  ],
  {
    error:
      'expected one of {header: NAME}, {metadata: {namespace, path}} or {api_key_header: NAME}',
  },
);

/** The tenant of a request that no source names, unless tenants are required. */
export const DEFAULT_TENANT = 'anonymous';

/**
 * The `tenants:` section: who a request is charged to. A request that no
 * source names is charged to `default_tenant`, or answered 401 when
 * `required` is true; there is no third way, so no request escapes its budget.
 */
export const tenantsSchema = z
  .strictObject({
    /**
     * Where the tenant id is read from, first match wins: a request header, a
     * value in Envoy metadata forwarded to ext_proc, or a hash of an API key
     * header. The client address is never used.
     */
    sources: z
      .array(tenantSourceSchema)
      .min(1)
      .default([{ header: 'x-tenant-id' }]),
    /** The tenant of a request no source names (`anonymous` unless `required`). */
    default_tenant: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, 'expected 1-128 visible ASCII characters')
      .nullable()
      .optional(),
    /** Answer 401 to a request that no source names; no default tenant is then used. */
    required: z.boolean().default(false),
  })
  .superRefine((section, context) => {
    if (section.required && typeof section.default_tenant === 'string') {
      context.addIssue({
        code: 'custom',
        path: ['default_tenant'],
        message:
          'a default tenant cannot be combined with required: true (a request without a ' +
          'tenant gets 401); remove one of the two',
      });
    }
    if (!section.required && section.default_tenant === null) {
      context.addIssue({
        code: 'custom',
        path: ['default_tenant'],
        message:
          'null would let requests without a tenant skip every budget; name a default ' +
          'tenant, or set required: true to answer them 401',
      });
    }
  });

/** The `tenants:` section as written, after defaults. */
export type TenantsFile = z.output<typeof tenantsSchema>;
