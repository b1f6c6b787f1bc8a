import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ConfigProblem } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { TollgateConfig } from '../../src/config/tollgate-config.js';

function load(yaml: string): TollgateConfig {
  const result = parseConfigText(yaml, 'scopes.yaml');
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config;
}

function problems(yaml: string): ConfigProblem[] {
  const result = parseConfigText(yaml, 'scopes.yaml');
  assert.ok(!result.ok, 'the file must be rejected');
  return result.problems;
}

/** Every namespace key, each policy kind at namespace and service scope. */
const FULL = `
budgets:
  enabled: true
  tenants:
    default: {period: daily, limit: 1000}
circuit_breakers:
  upstreams:
    llm: {failure_threshold: 4}
timeouts: {upstream_seconds: 300}
scope:
  sources:
    - route: {chat: payments, embed: "payments:embeddings"}
    - metadata: {namespace: envoy.filters.http.jwt_authn, path: payload.team}
    - headers: {namespace: x-team, service: null}
namespaces:
  payments:
    circuit_breakers:
      upstreams:
        llm: {failure_threshold: 2, timeout_seconds: 5}
        shared-llm: {export: true}
        "api.openai.com:443":
    budgets:
      tenants:
        default: {period: hourly, limit: 500}
        acme: {period: daily, limit: 50, export: true}
    cost_attribution:
      currency: EUR
      pricing:
        - {model_pattern: gpt-4o*, input_cost_per_million: 2, output_cost_per_million: 8}
    timeouts: {upstream_seconds: 60, export: true}
    services:
      api:
        circuit_breakers:
          upstreams:
            llm: {failure_statuses: [503]}
        budgets:
          tenants:
            acme: {period: daily, limit: 10}
        cost_attribution:
          default_input_cost: 1
          default_output_cost: 1
          export: true
        timeouts: {upstream_seconds: 0}
      empty:
  search: {}
`;

describe('namespaces, scope and timeouts in the config file', () => {
  it('compiles every key into items of the right ids, scopes and exports', () => {
    const config = load(FULL);
    const ids = (items: ReadonlyArray<{ id: { canonical: string }; exported?: boolean }>) =>
      items.map(({ id, exported }) => `${id.canonical}${exported ? ' (exported)' : ''}`);

    assert.deepEqual(config.namespaces, ['payments', 'search']);
    assert.deepEqual(ids(config.policies.breakers), [
      'llm',
      'payments:llm',
      'payments:shared-llm (exported)',
      'payments:api.openai.com%3A443',
      'payments:api:llm',
    ]);
    assert.deepEqual(ids(config.policies.budgets), [
      'default',
      'payments:default',
      'payments:acme (exported)',
      'payments:api:acme',
    ]);
    assert.deepEqual(ids(config.policies.pricing), [
      'pricing',
      'payments:pricing',
      'payments:api:pricing (exported)',
    ]);
    assert.deepEqual(ids(config.policies.timeouts), [
      'timeouts',
      'payments:timeouts (exported)',
      'payments:api:timeouts',
    ]);
    assert.deepEqual(config.timeouts, { upstreamSeconds: 300 });
  });

  it('fills unset scoped breaker fields from circuit_breakers.defaults', () => {
    const breakers = load(FULL).breakers;
    const own = breakers.scoped.get('payments:llm')!;
    const service = breakers.scoped.get('payments:api:llm')!;

    assert.deepEqual(
      [own.failureThreshold, own.timeoutSeconds, own.successThreshold],
      [2, 5, breakers.defaults.successThreshold],
    );
    assert.equal(service.failureThreshold, breakers.defaults.failureThreshold);
    assert.deepEqual([service.isFailureStatus(503), service.isFailureStatus(500)], [true, false]);
    assert.equal(breakers.scoped.has('llm'), false, 'global breakers are not scoped');
  });

  it('compiles scope sources in order, with the header defaults', () => {
    const sources = load(FULL).scopeSources;
    assert.deepEqual(
      sources.map((source) => source.kind),
      ['route', 'metadata', 'headers'],
    );
    assert.deepEqual(sources[2], { kind: 'headers', namespace: 'x-team', service: undefined });
    assert.deepEqual(load('').scopeSources, [
      { kind: 'headers', namespace: 'x-tollgate-namespace', service: 'x-tollgate-service' },
    ]);
    assert.deepEqual(load('scope: {sources: []}').scopeSources, []);
  });

  it('reports a second export of a name with its path and line, naming the first', () => {
    const found = problems(`
budgets:
  enabled: true
namespaces:
  platform:
    budgets:
      tenants:
        acme: {period: daily, limit: 5, export: true}
  payments:
    services:
      api:
        budgets:
          tenants:
            acme: {period: daily, limit: 9, export: true}
`);

    assert.deepEqual(found, [
      {
        path: 'namespaces.payments.services.api.budgets.tenants.acme.export',
        line: 14,
        message:
          'the budget of "acme" is already exported by namespaces.platform.budgets.tenants.acme; ' +
          'a name is exported from one scope only: remove one of the exports',
      },
    ]);
  });

  it('reports duplicate exports of every kind together with the other problems', () => {
    const exported = `
    circuit_breakers: {upstreams: {llm: {export: true}}}
    cost_attribution: {export: true}
    timeouts: {upstream_seconds: 1, export: true}`;
    const found = problems(`
logging: {level: loud}
namespaces:
  a:${exported}
  b:${exported}
`);

    assert.deepEqual(
      found.map((problem) => [problem.path, problem.line]),
      [
        ['logging.level', 2],
        ['namespaces.b.circuit_breakers.upstreams.llm.export', 9],
        ['namespaces.b.cost_attribution.export', 10],
        ['namespaces.b.timeouts.export', 11],
      ],
    );
    assert.match(
      found[1]!.message,
      /breaker of upstream "llm" is already exported by namespaces\.a/,
    );
    assert.match(found[2]!.message, /price list is already exported by namespaces\.a\.cost_att/);
    assert.match(found[3]!.message, /timeout is already exported by namespaces\.a\.timeouts;/);
  });

  it('allows the same name exported under different kinds, and exported nowhere twice', () => {
    load(`
budgets: {enabled: true}
namespaces:
  a:
    circuit_breakers: {upstreams: {acme: {export: true}}}
    budgets: {tenants: {acme: {period: daily, limit: 5}}}
  b:
    budgets: {tenants: {acme: {period: daily, limit: 5, export: true}}}
`);
  });

  const invalid: Array<{ name: string; yaml: string; path: string; message: RegExp }> = [
    {
      name: 'a namespace name with a colon',
      yaml: 'namespaces:\n  "a:b": {}\n',
      path: 'namespaces.a:b',
      message: /a namespace name is 1-128 visible ASCII characters, no ":"; got "a:b"/,
    },
    {
      name: 'an empty service name',
      yaml: 'namespaces:\n  a:\n    services:\n      "": {}\n',
      path: 'namespaces.a.services.',
      message: /a service name is 1-128/,
    },
    {
      name: 'services under a service',
      yaml: 'namespaces:\n  a:\n    services:\n      s:\n        services: {}\n',
      path: 'namespaces.a.services.s.services',
      message: /unknown key/,
    },
    {
      name: 'an unknown key in a scoped breaker',
      yaml:
        'namespaces:\n  a:\n    circuit_breakers:\n      upstreams:\n' +
        '        l: {threshold: 1}\n',
      path: 'namespaces.a.circuit_breakers.upstreams.l.threshold',
      message: /unknown key/,
    },
    {
      name: 'enabled in a scoped price list',
      yaml: 'namespaces:\n  a:\n    cost_attribution: {enabled: true}\n',
      path: 'namespaces.a.cost_attribution.enabled',
      message: /unknown key/,
    },
    {
      name: 'one default price without the other',
      yaml: 'namespaces:\n  a:\n    cost_attribution: {default_input_cost: 1}\n',
      path: 'namespaces.a.cost_attribution.default_output_cost',
      message: /together/,
    },
    {
      name: 'a bad export flag',
      yaml: 'namespaces:\n  a:\n    timeouts: {upstream_seconds: 1, export: yes}\n',
      path: 'namespaces.a.timeouts.export',
      message: /expected true or false/,
    },
    {
      name: 'a timeout below a millisecond',
      yaml: 'timeouts: {upstream_seconds: 0.0004}\n',
      path: 'timeouts.upstream_seconds',
      message: /0 \(no limit\) or at least 0.001/,
    },
    {
      name: 'a negative timeout',
      yaml: 'namespaces:\n  a:\n    timeouts: {upstream_seconds: -1}\n',
      path: 'namespaces.a.timeouts.upstream_seconds',
      message: /at least 0/,
    },
    {
      name: 'scoped budgets while budgets are off',
      yaml:
        'namespaces:\n  a:\n    budgets:\n      tenants:\n' +
        '        t: {period: daily, limit: 1}\n',
      path: 'namespaces.a.budgets',
      message: /need budgets.enabled: true/,
    },
    {
      name: 'a global breaker named like a scoped one',
      yaml:
        'circuit_breakers:\n  upstreams:\n    "a:llm": {}\n' +
        'namespaces:\n  a:\n    circuit_breakers: {upstreams: {llm: {}}}\n',
      path: 'circuit_breakers.upstreams.a:llm',
      message: /also the id of the scoped breaker namespaces\.a\.circuit_breakers\.upstreams\.llm/,
    },
    {
      name: 'a scope source of two kinds',
      yaml: 'scope:\n  sources:\n    - {headers: {}, route: {r: a}}\n',
      path: 'scope.sources.0',
      message: /exactly one of/,
    },
    {
      name: 'a route mapped to three parts',
      yaml: 'scope:\n  sources:\n    - route: {r: "a:b:c"}\n',
      path: 'scope.sources.0.route.r',
      message: /NAMESPACE or NAMESPACE:SERVICE/,
    },
    {
      name: 'a metadata source without a path',
      yaml: 'scope:\n  sources:\n    - metadata: {namespace: jwt}\n',
      path: 'scope.sources.0.metadata.path',
      message: /dotted path/,
    },
    {
      name: 'an upper-case header name',
      yaml: 'scope:\n  sources:\n    - headers: {namespace: X-Team}\n',
      path: 'scope.sources.0.headers.namespace',
      message: /lower-case/,
    },
  ];

  for (const { name, yaml, path, message } of invalid) {
    it(`rejects ${name} at ${path}`, () => {
      const found = problems(yaml);
      const problem = found.find((candidate) => candidate.path === path);
      assert.ok(problem, `no problem at ${path}: ${JSON.stringify(found)}`);
      assert.match(problem.message, message);
      assert.equal(typeof problem.line, 'number');
    });
  }
});
