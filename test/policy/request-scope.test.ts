import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RequestFacts } from '../../src/engine/request-facts.js';
import { parseScopeText, resolveScope } from '../../src/policy/request-scope.js';
import { Scope } from '../../src/registry/scope.js';
import { testConfig } from '../helpers/tollgate-harness.js';

function facts(
  headers: Record<string, string> = {},
  attributes: Record<string, string> = {},
  metadata: Record<string, unknown> = {},
): RequestFacts {
  return {
    headers: new Map(Object.entries(headers)),
    attributes: new Map(Object.entries(attributes)),
    metadata: new Map(Object.entries(metadata)),
  };
}

const ALL_SOURCES = testConfig(`
scope:
  sources:
    - route: {chat: payments, embed: "payments:embeddings"}
    - metadata: {namespace: envoy.filters.http.jwt_authn, path: payload.team}
    - headers: {}
`).scopeSources;

const jwt = (team: unknown) => ({ 'envoy.filters.http.jwt_authn': { payload: { team } } });

describe('the scope of a request', () => {
  const cases: Array<{ name: string; facts: RequestFacts; scope: Scope }> = [
    { name: 'nothing names a scope', facts: facts(), scope: Scope.global() },
    {
      name: 'the route names a namespace',
      facts: facts({}, { 'xds.route_name': 'chat' }),
      scope: Scope.namespace('payments'),
    },
    {
      name: 'the route names a service',
      facts: facts({}, { 'xds.route_name': 'embed' }),
      scope: Scope.service('payments', 'embeddings'),
    },
    {
      name: 'the route comes before metadata and headers',
      facts: facts(
        { 'x-tollgate-namespace': 'search' },
        { 'xds.route_name': 'chat' },
        jwt('ads:web'),
      ),
      scope: Scope.namespace('payments'),
    },
    {
      name: 'an unmapped route falls through to metadata',
      facts: facts({ 'x-tollgate-namespace': 'search' }, { 'xds.route_name': 'other' }, jwt('ads')),
      scope: Scope.namespace('ads'),
    },
    {
      name: 'metadata names a service',
      facts: facts({}, {}, jwt('ads:web')),
      scope: Scope.service('ads', 'web'),
    },
    {
      name: 'metadata that is not a string falls through',
      facts: facts({ 'x-tollgate-namespace': 'search' }, {}, jwt(42)),
      scope: Scope.namespace('search'),
    },
    {
      name: 'metadata with two colons falls through',
      facts: facts({ 'x-tollgate-namespace': 'search' }, {}, jwt('a:b:c')),
      scope: Scope.namespace('search'),
    },
    {
      name: 'headers name the namespace and its service',
      facts: facts({ 'x-tollgate-namespace': 'search', 'x-tollgate-service': 'rank' }),
      scope: Scope.service('search', 'rank'),
    },
    {
      name: 'a service header alone names nothing',
      facts: facts({ 'x-tollgate-service': 'rank' }),
      scope: Scope.global(),
    },
    {
      name: 'a namespace header with a colon is absent',
      facts: facts({ 'x-tollgate-namespace': 'search:rank' }),
      scope: Scope.global(),
    },
    {
      name: 'a namespace header with a control character is absent',
      facts: facts({ 'x-tollgate-namespace': 'sea\u0001rch' }),
      scope: Scope.global(),
    },
    {
      name: 'a namespace header with a space is absent',
      facts: facts({ 'x-tollgate-namespace': 'sea rch' }),
      scope: Scope.global(),
    },
    {
      name: 'an unusable service header leaves the namespace scope',
      facts: facts({ 'x-tollgate-namespace': 'search', 'x-tollgate-service': 'a:b' }),
      scope: Scope.namespace('search'),
    },
    {
      name: 'a namespace header longer than 128 characters is absent',
      facts: facts({ 'x-tollgate-namespace': 'n'.repeat(129) }),
      scope: Scope.global(),
    },
  ];

  for (const { name, facts: request, scope } of cases) {
    it(`is ${JSON.stringify(scope)} when ${name}`, () => {
      assert.deepEqual(resolveScope(ALL_SOURCES, request), scope);
    });
  }

  it('reads only the configured sources', () => {
    const onlyJwt = testConfig(`
scope:
  sources:
    - metadata: {namespace: envoy.filters.http.jwt_authn, path: payload.team}
`).scopeSources;
    const request = facts({ 'x-tollgate-namespace': 'search' }, { 'xds.route_name': 'chat' });

    assert.deepEqual(resolveScope(onlyJwt, request), Scope.global());
    assert.deepEqual(resolveScope([], facts({ 'x-tollgate-namespace': 'a' })), Scope.global());
  });

  it('reads a service header only when one is configured', () => {
    const noService = testConfig('scope: {sources: [{headers: {service: null}}]}').scopeSources;
    const request = facts({ 'x-tollgate-namespace': 'search', 'x-tollgate-service': 'rank' });

    assert.deepEqual(resolveScope(noService, request), Scope.namespace('search'));
  });

  it('parses NAMESPACE and NAMESPACE:SERVICE and nothing else', () => {
    assert.deepEqual(parseScopeText('a'), Scope.namespace('a'));
    assert.deepEqual(parseScopeText('a:b'), Scope.service('a', 'b'));
    for (const bad of ['', ':', 'a:', ':b', 'a:b:c', 'a b', 'é']) {
      assert.equal(parseScopeText(bad), undefined, JSON.stringify(bad));
    }
  });
});
