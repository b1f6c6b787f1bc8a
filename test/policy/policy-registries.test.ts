import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { accountAt, resolveAccount } from '../../src/budget/budget-account.js';
import { policyName, rawName } from '../../src/policy/policy-name.js';
import { PolicyRegistries } from '../../src/policy/policy-registries.js';
import { describeResolution } from '../../src/policy/policy-resolution.js';
import { isDuplicateExportError } from '../../src/registry/duplicate-export-error.js';
import { QualifiedId } from '../../src/registry/qualified-id.js';
import { Scope } from '../../src/registry/scope.js';
import { testConfig } from '../helpers/tollgate-harness.js';

const BUDGET = '{period: daily, limit: 100}';

const SCOPES = testConfig(`
budgets:
  enabled: true
  tenants:
    default: ${BUDGET}
    acme: ${BUDGET}
circuit_breakers:
  upstreams:
    llm: {}
timeouts: {upstream_seconds: 30}
namespaces:
  payments:
    circuit_breakers: {upstreams: {llm: {}}}
    budgets: {tenants: {default: ${BUDGET}}}
    services:
      api:
        circuit_breakers: {upstreams: {llm: {}}}
        budgets: {tenants: {"org:x": ${BUDGET}}}
  platform:
    timeouts: {upstream_seconds: 5, export: true}
    budgets: {tenants: {acme: {period: daily, limit: 100, export: true}}}
`);

describe('PolicyRegistries', () => {
  it('resolves each kind in all four steps: service, namespace, exported, global', () => {
    const policies = PolicyRegistries.snapshotOf(SCOPES.policies);
    const step = (scope: Scope) => describeResolution(policies, scope);

    assert.deepEqual(step(Scope.service('payments', 'api')).breakers, {
      llm: { id: 'payments:api:llm', step: 'service' },
    });
    assert.deepEqual(step(Scope.service('payments', 'web')).breakers, {
      llm: { id: 'payments:llm', step: 'namespace' },
    });
    assert.deepEqual(step(Scope.namespace('payments')).timeouts, {
      timeouts: { id: 'platform:timeouts', step: 'exported' },
    });
    assert.deepEqual(step(Scope.namespace('search')).breakers, {
      llm: { id: 'llm', step: 'global' },
    });
    assert.deepEqual(step(Scope.global()).budgets, {
      acme: { id: 'platform:acme', step: 'exported' },
      default: { id: 'default', step: 'global' },
      'org:x': null,
    });
    assert.deepEqual(step(Scope.global()).pricing, { pricing: { id: 'pricing', step: 'global' } });
  });

  it('replaces all four kinds in one step, and a snapshot keeps what it saw', () => {
    const registries = new PolicyRegistries();
    const first = registries.replaceAll(SCOPES.policies).snapshot;

    const next = testConfig('timeouts: {upstream_seconds: 9}');
    const second = registries.replaceAll(next.policies).snapshot;

    assert.equal(first.breakers.len(), 3);
    assert.equal(first.timeouts.resolve('timeouts', Scope.global())?.upstreamSeconds, 5);
    assert.equal(second.breakers.len(), 0);
    assert.equal(second.timeouts.resolve('timeouts', Scope.global())?.upstreamSeconds, 9);
    assert.equal(registries.snapshot().budgets.len(), 0);
  });

  it('puts every kind back on undo', () => {
    const registries = new PolicyRegistries();
    registries.replaceAll(SCOPES.policies);

    registries.replaceAll(testConfig('').policies).undo();

    const back = registries.snapshot();
    assert.equal(back.breakers.len(), 3);
    assert.equal(back.budgets.exporter('acme')?.canonical, 'platform:acme');
  });

  it('changes no kind when any kind has a duplicate export', () => {
    const registries = new PolicyRegistries();
    registries.replaceAll(SCOPES.policies);
    const clash = (namespace: string) => ({
      id: QualifiedId.namespaced(namespace, 'timeouts'),
      item: { upstreamSeconds: 1 },
      exported: true,
    });

    assert.throws(
      () =>
        registries.replaceAll({
          breakers: [],
          budgets: [],
          pricing: [],
          timeouts: [clash('a'), clash('b')],
        }),
      isDuplicateExportError,
    );
    assert.equal(registries.snapshot().breakers.len(), 3, 'breakers were not replaced either');
  });
});

describe('budget accounts', () => {
  const rules = PolicyRegistries.snapshotOf(SCOPES.policies).budgets;

  const cases: Array<{ tenant: string; scope: Scope; key: string; budget: string }> = [
    { tenant: 'bob', scope: Scope.global(), key: 'bob', budget: 'default' },
    {
      tenant: 'bob',
      scope: Scope.namespace('payments'),
      key: 'payments:bob',
      budget: 'payments:default',
    },
    {
      tenant: 'bob',
      scope: Scope.service('payments', 'api'),
      key: 'payments:bob',
      budget: 'payments:default',
    },
    {
      tenant: 'org:x',
      scope: Scope.service('payments', 'api'),
      key: 'payments:api:org%3Ax',
      budget: 'payments:api:org%3Ax',
    },
    {
      tenant: 'acme',
      scope: Scope.namespace('payments'),
      key: 'platform:acme',
      budget: 'platform:acme',
    },
    {
      tenant: 'acme',
      scope: Scope.namespace('platform'),
      key: 'platform:acme',
      budget: 'platform:acme',
    },
    { tenant: 'org:x', scope: Scope.global(), key: 'org%3Ax', budget: 'default' },
  ];

  for (const { tenant, scope, key, budget } of cases) {
    it(`charges ${tenant} in ${JSON.stringify(scope)} on ${key} (budget ${budget})`, () => {
      const account = resolveAccount(rules, tenant, scope);
      assert.deepEqual([account.key, account.budget, account.tenant], [key, budget, tenant]);

      const back = accountAt(rules, key);
      assert.deepEqual([back?.key, back?.budget, back?.tenant], [key, budget, tenant]);
    });
  }

  it('has no budget for a key whose scope has none, and no account for a bad key', () => {
    assert.equal(accountAt(rules, 'search:bob')?.rule, undefined);
    assert.equal(accountAt(rules, 'a::b'), undefined);
  });
});

describe('policy item names', () => {
  it('escape % and : and read back exactly', () => {
    const names = ['plain', 'api.openai.com:443', '100%', '%3A', 'a:%25:b', 'spiffe://x/y'];
    for (const raw of names) {
      const name = policyName(raw);
      assert.ok(!name.includes(':'), name);
      assert.equal(rawName(name), raw);
    }
    assert.equal(policyName('plain'), 'plain');
  });
});
