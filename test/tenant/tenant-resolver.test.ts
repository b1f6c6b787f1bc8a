import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import type { RequestFacts } from '../../src/engine/request-facts.js';
import { tenantsSchema } from '../../src/tenant/tenant-schema.js';
import { apiKeyTenant, resolveTenant } from '../../src/tenant/tenant-resolver.js';
import { compileTenantPolicy } from '../../src/tenant/tenant-source.js';

function policyOf(section: unknown) {
  return compileTenantPolicy(tenantsSchema.parse(section));
}

function factsOf(
  headers: Record<string, string>,
  metadata?: Record<string, unknown>,
): RequestFacts {
  return {
    headers: new Map(Object.entries(headers)),
    attributes: new Map(),
    metadata: metadata && new Map(Object.entries(metadata)),
  };
}

const JWT = 'envoy.filters.http.jwt_authn';

describe('resolveTenant', () => {
  it('reads x-tenant-id by default and falls back to the anonymous tenant', () => {
    const policy = policyOf({});

    assert.deepEqual(resolveTenant(policy, factsOf({ 'x-tenant-id': 'acme' })), {
      tenant: 'acme',
      from: 'header',
    });
    assert.deepEqual(resolveTenant(policy, factsOf({})), { tenant: 'anonymous', from: 'default' });
  });

  it('takes the first source that has a usable value', () => {
    const policy = policyOf({
      sources: [{ metadata: { namespace: JWT, path: 'payload.sub' } }, { header: 'x-team' }],
    });

    const both = factsOf({ 'x-team': 'blue' }, { [JWT]: { payload: { sub: 'org-7' } } });
    assert.deepEqual(resolveTenant(policy, both), { tenant: 'org-7', from: 'metadata' });
    assert.deepEqual(resolveTenant(policy, factsOf({ 'x-team': 'blue' })), {
      tenant: 'blue',
      from: 'header',
    });
  });

  it('ignores a tenant header a client sends when only JWT metadata is configured', () => {
    const policy = policyOf({
      sources: [{ metadata: { namespace: JWT, path: 'payload.sub' } }],
      default_tenant: null,
      required: true,
    });

    const forged = factsOf({ 'x-tenant-id': 'victim' }, { [JWT]: { payload: { sub: 'me' } } });
    assert.equal(resolveTenant(policy, forged).tenant, 'me');
    assert.deepEqual(resolveTenant(policy, factsOf({ 'x-tenant-id': 'victim' })), {
      tenant: undefined,
      from: 'none',
    });
  });

  it('treats values with control characters, spaces or over 128 characters as absent', () => {
    const policy = policyOf({ default_tenant: 'fallback' });

    for (const value of ['a\u0007b', 'two words', 'x'.repeat(129), '', 'caf\u00e9']) {
      assert.equal(resolveTenant(policy, factsOf({ 'x-tenant-id': value })).tenant, 'fallback');
    }
    assert.equal(resolveTenant(policy, factsOf({ 'x-tenant-id': 'x'.repeat(128) })).from, 'header');
  });

  it('reads whole-number metadata values but not objects or fractions', () => {
    const policy = policyOf({
      sources: [{ metadata: { namespace: JWT, path: 'payload.org' } }],
      required: true,
    });

    const numeric = factsOf({}, { [JWT]: { payload: { org: 42 } } });
    assert.equal(resolveTenant(policy, numeric).tenant, '42');
    for (const org of [{ id: 1 }, 1.5, true, null]) {
      const facts = factsOf({}, { [JWT]: { payload: { org } } });
      assert.equal(resolveTenant(policy, facts).tenant, undefined);
    }
  });
});

describe('API key tenants', () => {
  const KEY = 'sk-live-0123456789abcdef';
  const expected = `key-${createHash('sha256').update(KEY).digest('hex').slice(0, 16)}`;

  it('hashes the key, never returning it, with or without a Bearer prefix', () => {
    assert.equal(apiKeyTenant(KEY), expected);
    assert.equal(apiKeyTenant(`Bearer ${KEY}`), expected);
    assert.equal(apiKeyTenant(`bearer   ${KEY}`), expected);
    assert.ok(!expected.includes(KEY.slice(3)));
  });

  it('gives no tenant for an empty key', () => {
    assert.equal(apiKeyTenant('Bearer '), undefined);
  });

  it('is used as a source', () => {
    const policy = policyOf({ sources: [{ api_key_header: 'authorization' }] });
    const identity = resolveTenant(policy, factsOf({ authorization: `Bearer ${KEY}` }));
    assert.deepEqual(identity, { tenant: expected, from: 'api_key' });
  });
});

describe('tenants schema', () => {
  it('rejects a source that names two kinds or an unknown kind', () => {
    for (const source of [{ header: 'x-a', api_key_header: 'x-b' }, { cookie: 'tenant' }]) {
      const result = tenantsSchema.safeParse({ sources: [source] });
      assert.equal(result.success, false, JSON.stringify(source));
    }
  });

  it('answers no tenant (a 401) when tenants are required, whatever the default would be', () => {
    const policy = policyOf({ required: true });

    assert.deepEqual(resolveTenant(policy, factsOf({})), { tenant: undefined, from: 'none' });
    assert.equal(policy.defaultTenant, undefined);
  });

  it('rejects a null default tenant without required, and a default tenant with it', () => {
    const unbudgeted = tenantsSchema.safeParse({ default_tenant: null });
    const contradictory = tenantsSchema.safeParse({ default_tenant: 'acme', required: true });

    assert.equal(unbudgeted.success, false);
    assert.match(unbudgeted.error!.issues[0]!.message, /skip every budget/);
    assert.deepEqual(unbudgeted.error!.issues[0]!.path, ['default_tenant']);
    assert.equal(contradictory.success, false);
    assert.match(contradictory.error!.issues[0]!.message, /cannot be combined with required/);
  });

  it('rejects upper-case header names and a malformed default tenant', () => {
    assert.equal(tenantsSchema.safeParse({ sources: [{ header: 'X-Tenant' }] }).success, false);
    assert.equal(tenantsSchema.safeParse({ default_tenant: 'has space' }).success, false);
  });
});
