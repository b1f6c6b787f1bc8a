import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { parse } from 'yaml';

import { parseConfigText } from '../../src/config/load-config.js';
import type { TollgateConfig } from '../../src/config/tollgate-config.js';
import { calculateCost } from '../../src/cost/cost-calculator.js';
import { UPSTREAM_TIMEOUT_HEADER } from '../../src/policy/timeout-policy.js';
import { usageMetadata } from '../../src/services/ext-proc/usage-metadata.js';
import {
  clustersOf,
  dynamicMetadataRefs,
  ENVOY_TYPES,
  get,
  grpcClusterOf,
  httpFilter,
  listenersOf,
} from '../helpers/envoy-bootstrap-view.js';
import { EnvoyConfigValidator } from '../helpers/envoy-config-validator.js';
import { readRepoFile } from '../helpers/repo-files.js';
import { PATH_OF } from '../helpers/usage-exchange.js';

const ENVOY_YAML = 'envoy/envoy.yaml';

let validator: EnvoyConfigValidator;
let text: string;
let bootstrap: unknown;
let config: TollgateConfig;

before(() => {
  validator = new EnvoyConfigValidator();
  text = readRepoFile(ENVOY_YAML);
  bootstrap = parse(text);

  const loaded = parseConfigText(readRepoFile('config/tollgate.yaml'), 'config/tollgate.yaml');
  assert.ok(loaded.ok, 'the bundled config must load');
  config = loaded.config;
});

/** The fields inside tollgate's metadata struct for a fully described outcome. */
function metadataFieldsTollgateWrites(): string[] {
  const usage = { input: 12, cachedInput: 2, cacheCreation: 1, output: 5, reasoning: 1, total: 17 };
  const settlement = {
    usage,
    source: 'reported' as const,
    missing: 'none',
    model: 'gpt-4o-mini',
    format: 'openai_chat' as const,
    rejected: [],
  };
  const cost = config.pricing && calculateCost(usage, settlement.model, config.pricing);
  const struct = usageMetadata({ settlement, cost }, config.usage, 'llm_backend');

  const { metadataNamespace, metadataKey } = config.usage;
  const inner = struct.fields?.[metadataNamespace]?.structValue?.fields?.[metadataKey];
  return Object.keys(inner?.structValue?.fields ?? {});
}

describe('envoy/envoy.yaml', () => {
  it("is a valid v3 Bootstrap: every field, type and typed_config known to Envoy's API", () => {
    assert.deepEqual(validator.validateYaml(text), []);
  });

  it('runs the header strip, ext_authz (disabled), ext_proc, then the router, in order', () => {
    const filters = listenersOf(bootstrap)[0]!.httpFilters;

    assert.deepEqual(
      filters.map((filter) => [filter.type, filter.disabled]),
      [
        [ENVOY_TYPES.headerMutation, false],
        [ENVOY_TYPES.extAuthz, true],
        [ENVOY_TYPES.extProc, false],
        [ENVOY_TYPES.router, false],
      ],
    );
    assert.equal(grpcClusterOf(filters[1]!.config), 'tollgate');
  });

  it('strips the headers that would let a client pick the upstream or the policy scope', () => {
    const strip = listenersOf(bootstrap)[0]!.httpFilters[0]!.config as {
      mutations: { request_mutations: Array<{ remove: string }> };
    };
    const removed = strip.mutations.request_mutations.map((mutation) => mutation.remove);

    assert.deepEqual(removed, [
      'x-tollgate-upstream',
      'x-tollgate-namespace',
      'x-tollgate-service',
    ]);
  });

  it('asks Envoy for what tollgate needs in the ext_proc filter', () => {
    const extProc = httpFilter(bootstrap, ENVOY_TYPES.extProc).config;

    assert.deepEqual(extProc.processing_mode, {
      request_header_mode: 'SEND',
      request_body_mode: 'BUFFERED',
      response_header_mode: 'SEND',
      response_body_mode: 'BUFFERED',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    });
    assert.equal(extProc.allow_mode_override, true);
    assert.deepEqual(extProc.request_attributes, ['xds.cluster_name', 'xds.route_name']);
    // The scope's timeout header: ext_proc may change no x-envoy-* header otherwise.
    const allowed = new RegExp(String(get(extProc, 'mutation_rules', 'allow_expression', 'regex')));
    assert.ok(allowed.test(UPSTREAM_TIMEOUT_HEADER));
    assert.ok(!allowed.test('x-envoy-upstream-rq-per-try-timeout-ms'));
    assert.equal(get(extProc, 'mutation_rules', 'allow_envoy'), undefined);
    assert.equal(extProc.message_timeout, '0.2s');
    assert.equal(typeof extProc.failure_mode_allow, 'boolean');
    assert.deepEqual(get(extProc, 'metadata_options', 'receiving_namespaces', 'untyped'), [
      config.usage.metadataNamespace,
    ]);
  });

  it('sets no deadline on the ext_proc gRPC stream, which lives as long as the request', () => {
    const extProc = httpFilter(bootstrap, ENVOY_TYPES.extProc).config;

    assert.equal(grpcClusterOf(extProc), 'tollgate');
    assert.equal(get(extProc, 'grpc_service', 'timeout'), undefined);
  });

  it('talks HTTP/2 to tollgate and lifts the per-cluster request limit', () => {
    const tollgate = clustersOf(bootstrap).find((cluster) => cluster.name === 'tollgate')!;
    const options = get(tollgate.raw, 'typed_extension_protocol_options', ENVOY_TYPES.http2Options);

    assert.ok(get(options, 'explicit_http_config', 'http2_protocol_options'));
    const maxRequests = Number(
      get(tollgate.raw, 'circuit_breakers', 'thresholds', 0, 'max_requests'),
    );
    assert.ok(maxRequests > 1024, 'Envoy defaults to 1024 concurrent ext_proc streams');
  });

  it('gets the LLM backend endpoints from tollgate over EDS (gRPC, API v3)', () => {
    const backend = clustersOf(bootstrap).find((cluster) => cluster.name === 'llm_backend')!;
    const eds = get(backend.raw, 'eds_cluster_config', 'eds_config');

    assert.equal(backend.type, 'EDS');
    assert.equal(get(eds, 'resource_api_version'), 'V3');
    assert.equal(get(eds, 'api_config_source', 'api_type'), 'GRPC');
    assert.equal(get(eds, 'api_config_source', 'transport_api_version'), 'V3');
    assert.equal(grpcClusterOf(get(eds, 'api_config_source')), 'tollgate');
    assert.deepEqual(listenersOf(bootstrap)[0]!.routeClusters, ['llm_backend']);
  });

  it('logs tokens and cost from fields tollgate really writes in its dynamic metadata', () => {
    const formats = listenersOf(bootstrap)[0]!.accessLogFormats;
    const refs = dynamicMetadataRefs(formats);
    const written = metadataFieldsTollgateWrites();

    const fields = refs.map((ref) => {
      assert.equal(ref.namespace, config.usage.metadataNamespace);
      assert.equal(ref.path[0], config.usage.metadataKey);
      return ref.path[1]!;
    });
    for (const field of fields) assert.ok(written.includes(field), `tollgate writes no ${field}`);
    for (const needed of ['tokens_input', 'tokens_output', 'cost', 'model']) {
      assert.ok(fields.includes(needed), `the access log should print ${needed}`);
    }
    assert.ok(formats.includes('%RESPONSE_CODE_DETAILS%'), 'the decision is not logged');
  });

  it('routes the path of every provider format tollgate reads to the LLM cluster', () => {
    const { routes } = listenersOf(bootstrap)[0]!;
    const paths = [...Object.values(PATH_OF), '/v1beta/models/gemini-2.5-pro:generateContent'];

    for (const path of paths) {
      // Envoy matches a prefix against the whole :path, query string included.
      const route = routes.find(({ match }) => {
        assert.equal(match.regex, undefined, 'a regex route: extend this check to cover it');
        if (match.prefix !== undefined) return path.startsWith(match.prefix);
        return match.path === path.split('?')[0];
      });
      assert.equal(route?.cluster, 'llm_backend', `${path} is not routed to llm_backend`);
    }
  });
});

/** A copy of envoy.yaml with `from` (which must occur once) replaced by `to`. */
function broken(from: string, to: string): { text: string; line: number } {
  assert.equal(text.split(from).length, 2, `"${from}" should occur once in ${ENVOY_YAML}`);

  const changed = text.replace(from, to);
  const line = changed.slice(0, changed.indexOf(to)).split('\n').length;
  return { text: changed, line };
}

describe('a broken copy of envoy/envoy.yaml', () => {
  // lineOffset: the problem is on a line after the first line of `to`.
  const cases: Array<{
    what: string;
    from: string;
    to: string;
    message: RegExp;
    lineOffset?: number;
  }> = [
    {
      what: 'a misspelt field',
      from: 'message_timeout: 0.2s',
      to: 'message_timout: 0.2s',
      message: /unknown field "message_timout".*did you mean "message_timeout"/,
    },
    {
      what: 'a misspelt field inside a typed_extension_protocol_options Any',
      from: 'explicit_http_config:',
      to: 'explicit_http_configs:',
      message: /unknown field "explicit_http_configs" in envoy\.extensions\.upstreams\.http/,
    },
    {
      what: 'text where an integer belongs',
      from: 'port_value: 50051',
      to: 'port_value: fifty',
      message: /expected an integer \(uint32\), got the string "fifty"/,
    },
    {
      what: 'a string where a boolean belongs',
      from: 'allow_mode_override: true',
      to: 'allow_mode_override: yes',
      message: /expected true or false, got the string "yes"/,
    },
    {
      what: 'an unknown enum value',
      from: 'request_body_mode: BUFFERED',
      to: 'request_body_mode: BUFFER',
      message: /expected one of NONE, STREAMED, BUFFERED.*did you mean "BUFFERED"/,
    },
    {
      what: 'a duration without the seconds form',
      from: 'message_timeout: 0.2s',
      to: 'message_timeout: 200ms',
      message: /expected a duration string such as "0\.25s"/,
    },
    {
      what: 'an unknown @type',
      from: 'ext_proc.v3.ExternalProcessor\n',
      to: 'ext_proc.v3.ExternalProcesor\n',
      message: /unknown type .*ExternalProcesor.*did you mean .*ExternalProcessor/,
    },
    {
      what: 'an @type in a package Envoy does not have',
      from: 'http.router.v3.Router',
      to: 'http.routr.v3.Router',
      message: /unknown type envoy\.extensions\.filters\.http\.routr\.v3\.Router/,
    },
    {
      what: 'a deprecated field',
      from: '      connect_timeout: 1s\n',
      to: '      connect_timeout: 1s\n      http2_protocol_options: {}\n',
      message: /http2_protocol_options is deprecated/,
      lineOffset: 1,
    },
    {
      what: 'two members of one oneof',
      from: 'match: { prefix: / }',
      to: 'match: { prefix: /, path: /v1/models }',
      message: /set only one of prefix, path/,
    },
    {
      what: 'a single value where a list belongs',
      from: "domains: ['*']",
      to: "domains: '*'",
      message: /expected a list/,
    },
    {
      what: 'a port beyond 65535',
      from: 'port_value: 10000',
      to: 'port_value: 100000',
      message: /must be at most 65535/,
    },
    {
      what: 'a duplicate key',
      from: '      stat_prefix: tollgate\n',
      to: '      stat_prefix: tollgate\n                      stat_prefix: tollgate2\n',
      message: /Map keys must be unique/,
      lineOffset: 1,
    },
  ];

  for (const { what, from, to, message, lineOffset = 0 } of cases) {
    it(`fails with ${what}, naming the line`, () => {
      const copy = broken(from, to);
      const problems = validator.validateYaml(copy.text);

      const found = problems.find((problem) => message.test(problem.message));
      assert.ok(found, `no problem matched ${message}: ${JSON.stringify(problems)}`);
      assert.equal(found.line, copy.line + lineOffset, `reported at line ${found.line}`);
    });
  }

  it('fails when a required message is removed, naming its path', () => {
    const copy = parse(text);
    const extProc = httpFilter(copy, ENVOY_TYPES.extProc).config;
    delete extProc.grpc_service;

    const problems = validator.validate(copy);

    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /grpc_service is required/);
    assert.match(problems[0]!.path, /http_filters\[2\]\.typed_config$/);
  });
});
