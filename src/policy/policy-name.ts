/**
 * Names of scoped policy items. Upstream names and tenant ids may hold any
 * visible ASCII, colons included (`api.openai.com:443`, `spiffe://...`), but
 * a colon in a canonical id separates the namespace, service and name. So an
 * upstream or tenant becomes an item name with `%` written `%25` and `:`
 * written `%3A`; names without either are unchanged.
 */
export function policyName(raw: string): string {
  return raw.replace(/[%:]/g, (char) => (char === '%' ? '%25' : '%3A'));
}

/** The upstream or tenant an item name stands for: {@link policyName} undone. */
export function rawName(name: string): string {
  return name.replace(/%(25|3A)/g, (escape) => (escape === '%25' ? '%' : ':'));
}

/** 1-128 visible ASCII characters other than `:`. */
const SCOPE_PART = /^[\x21-\x39\x3b-\x7e]{1,128}$/;

/**
 * Whether `value` can be a namespace or service name: 1-128 visible ASCII
 * characters without a colon, so it always fits a canonical id and a header.
 */
export function isScopePart(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_PART.test(value);
}

/** What a namespace or service name must look like, for config and admin messages. */
export const SCOPE_PART_RULE = '1-128 visible ASCII characters, no ":"';
