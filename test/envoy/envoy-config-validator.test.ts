import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import {
  EnvoyConfigValidator,
  type EnvoyConfigProblem,
} from '../helpers/envoy-config-validator.js';

const CLUSTER = 'envoy.config.cluster.v3.Cluster';
const ROUTE = 'envoy.config.route.v3.RouteConfiguration';
const ANY = 'google.protobuf.Any';

let validator: EnvoyConfigValidator;

before(() => {
  validator = new EnvoyConfigValidator();
});

function cluster(extra: Record<string, unknown>): Record<string, unknown> {
  return { name: 'llm', connect_timeout: '1s', ...extra };
}

function messages(problems: EnvoyConfigProblem[]): string[] {
  return problems.map((problem) => `${problem.path}: ${problem.message}`);
}

describe('EnvoyConfigValidator', () => {
  it('accepts proto field names and their JSON camelCase names', () => {
    const problems = validator.validate(
      { name: 'llm', connectTimeout: '1s', perConnectionBufferLimitBytes: 1024 },
      CLUSTER,
    );

    assert.deepEqual(problems, []);
  });

  it('rejects a field written in both spellings', () => {
    const problems = validator.validate(cluster({ connectTimeout: '2s' }), CLUSTER);

    assert.deepEqual(messages(problems), [
      'connectTimeout: connect_timeout is set twice (also as connect_timeout)',
    ]);
  });

  it('says when a field was removed from the API rather than misspelt', () => {
    const problems = validator.validate(cluster({ hosts: [] }), CLUSTER);

    assert.deepEqual(messages(problems), [
      'hosts: unknown field "hosts" in envoy.config.cluster.v3.Cluster ' +
        '(it was removed from the API)',
    ]);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = validator.validate(
      cluster({ type: 'DNS', connect_timeout: 5, dns_lookup_family: 'V4_ONLY', lb_polcy: 'X' }),
      CLUSTER,
    );

    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['connect_timeout', 'type', 'lb_polcy'],
    );
  });

  const wrappers: Array<[string, unknown, RegExp | undefined]> = [
    ['a whole number', 1024, undefined],
    ['a decimal string', '1024', undefined],
    ['a negative number', -1, /out of range for uint32/],
    ['a fraction', 1.5, /expected an integer \(uint32\)/],
    ['null (unset)', null, undefined],
  ];
  for (const [what, value, expected] of wrappers) {
    it(`checks a UInt32Value wrapper given ${what}`, () => {
      const problems = validator.validate(
        cluster({ per_connection_buffer_limit_bytes: value }),
        CLUSTER,
      );

      if (!expected) assert.deepEqual(problems, []);
      else assert.match(problems[0]?.message ?? '', expected);
    });
  }

  it('accepts 64-bit integers as strings and enums as numbers', () => {
    const range = { start: '-5', end: '9007199254740993' };

    assert.deepEqual(validator.validate(range, 'envoy.type.v3.Int64Range'), []);
    assert.deepEqual(validator.validate(cluster({ type: 1 }), CLUSTER), []);
  });

  it('checks every @type of a typed_per_filter_config map, recursively', () => {
    const route = {
      virtual_hosts: [
        {
          name: 'llm',
          domains: ['*'],
          typed_per_filter_config: {
            'envoy.filters.http.ext_authz': {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
              check_settings: { disable_request_body_bufering: true },
            },
          },
        },
      ],
    };

    const problems = validator.validate(route, ROUTE);

    assert.equal(problems.length, 1);
    assert.equal(
      problems[0]!.path,
      'virtual_hosts[0].typed_per_filter_config["envoy.filters.http.ext_authz"]' +
        '.check_settings.disable_request_body_bufering',
    );
    assert.match(problems[0]!.message, /did you mean "disable_request_body_buffering"/);
  });

  it('loads an extension proto not listed up front when its @type names it', () => {
    const problems = validator.validate(
      {
        '@type':
          'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
        stat_prefix: 'llm',
        token_bucket: { max_tokens: 10, fill_interval: '1s' },
      },
      ANY,
    );

    assert.deepEqual(problems, []);
  });

  it('reads a well-known type inside an Any from its value field', () => {
    const good = validator.validate(
      { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '3s' },
      ANY,
    );
    const bad = validator.validate(
      { '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: 3 },
      ANY,
    );

    assert.deepEqual(good, []);
    assert.deepEqual(messages(bad), [
      'seconds: unknown field "seconds": a google.protobuf.Duration in an Any goes under "value"',
      'value: expected a duration string such as "0.25s" or "30s", got nothing',
    ]);
  });

  it("checks a TypedStruct's value against its type_url", () => {
    const problems = validator.validate(
      {
        '@type': 'type.googleapis.com/xds.type.v3.TypedStruct',
        type_url: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
        value: { suppress_envoy_headerz: true },
      },
      ANY,
    );

    assert.deepEqual(messages(problems), [
      'value.suppress_envoy_headerz: unknown field "suppress_envoy_headerz" in ' +
        'envoy.extensions.filters.http.router.v3.Router (did you mean "suppress_envoy_headers"?)',
    ]);
  });

  it('lets a Struct hold any JSON, and rejects a list in its place', () => {
    const ok = validator.validate(
      cluster({ metadata: { filter_metadata: { a: { b: [1, 'x', null] } } } }),
      CLUSTER,
    );
    const bad = validator.validate(cluster({ metadata: { filter_metadata: { a: [1] } } }), CLUSTER);

    assert.deepEqual(ok, []);
    assert.deepEqual(messages(bad), ['metadata.filter_metadata.a: expected an object, got a list']);
  });

  it('requires an Any to name its type', () => {
    const problems = validator.validate({ stat_prefix: 'x' }, ANY);

    assert.match(problems[0]?.message ?? '', /expected a type URL/);
  });

  it('applies string min_len and required oneofs from the validate rules', () => {
    const problems = validator.validate(
      {
        name: '',
        load_assignment: {
          cluster_name: 'llm',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: {} } }] }],
        },
      },
      CLUSTER,
    );

    assert.deepEqual(messages(problems), [
      'name: must be at least 1 character(s) long',
      'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address: one of socket_address, ' +
        'pipe, envoy_internal_address is required in envoy.config.core.v3.Address',
    ]);
  });

  it('rejects a deprecated enum value', () => {
    const problems = validator.validate(
      {
        api_config_source: { api_type: 'GRPC', transport_api_version: 'V2' },
      },
      'envoy.config.core.v3.ConfigSource',
    );

    assert.deepEqual(messages(problems), [
      'api_config_source.transport_api_version: ' +
        'V2 is a deprecated value of envoy.config.core.v3.ApiVersion',
    ]);
  });

  it('refuses to validate against a type Envoy does not have', () => {
    assert.throws(
      () => validator.validate({}, 'envoy.config.bootstrap.v3.Bootstrapp'),
      /not a message/,
    );
  });
});
