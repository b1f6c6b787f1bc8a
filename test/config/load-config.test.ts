import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ConfigError, formatProblems } from '../../src/config/config-error.js';
import {
  loadConfigFile,
  loadConfigOrThrow,
  MAX_CONFIG_BYTES,
  parseConfigText,
} from '../../src/config/load-config.js';

function problemsOf(yaml: string) {
  const result = parseConfigText(yaml, 'test.yaml');
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.problems;
}

describe('parseConfigText', () => {
  it('fills every default from an empty file', () => {
    const result = parseConfigText('', 'empty.yaml');

    assert.ok(result.ok);
    const { server, breakers, upstreamSources } = result.config;
    assert.equal(server.grpcAddress, '127.0.0.1:50051');
    assert.equal(server.adminAddress, '127.0.0.1:9464');
    assert.equal(breakers.defaults.failureThreshold, 5);
    assert.equal(breakers.defaults.successThreshold, 2);
    assert.equal(breakers.defaults.timeoutSeconds, 30);
    assert.equal(breakers.defaults.halfOpenMaxRequests, 1);
    assert.equal(breakers.defaults.isFailureStatus(503), true);
    assert.equal(breakers.defaults.isFailureStatus(429), false);
    assert.deepEqual(upstreamSources[0], { kind: 'attribute', name: 'xds.cluster_name' });
  });

  it('lets per-upstream entries inherit unset fields from defaults', () => {
    const result = parseConfigText(
      `circuit_breakers:
  defaults: { failure_threshold: 7, timeout_seconds: 4 }
  upstreams:
    openai: { timeout_seconds: 60, failure_statuses: [5xx, 429] }
`,
      'x.yaml',
    );

    assert.ok(result.ok);
    const openai = result.config.breakers.upstreams.get('openai');
    assert.equal(openai?.failureThreshold, 7);
    assert.equal(openai?.timeoutSeconds, 60);
    assert.equal(openai?.isFailureStatus(429), true);
    assert.equal(result.config.breakers.defaults.isFailureStatus(429), false);
  });

  it('compiles status specs: exact codes, classes and ranges', () => {
    const result = parseConfigText(
      'circuit_breakers:\n  defaults:\n    failure_statuses: [502, 5xx, "420-421"]\n',
      'x.yaml',
    );

    assert.ok(result.ok);
    const isFailure = result.config.breakers.defaults.isFailureStatus;
    assert.deepEqual([420, 421, 422, 499, 500, 599, 200].map(isFailure), [
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });

  it('freezes the compiled config', () => {
    const result = parseConfigText('', 'x.yaml');

    assert.ok(result.ok);
    assert.ok(Object.isFrozen(result.config));
    assert.ok(Object.isFrozen(result.config.server));
  });

  it('reports an unknown key with its path and line', () => {
    const problems = problemsOf('server:\n  grpc_address: 127.0.0.1:1\n  grpc_adress: x\n');

    assert.deepEqual(problems, [
      {
        path: 'server.grpc_adress',
        line: 3,
        message: 'unknown key (check the spelling against the config reference)',
      },
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const problems = problemsOf(
      [
        'circuit_breakers:',
        '  defaults:',
        '    failure_threshold: 0',
        '    timeout_seconds: "soon"',
        '    failure_statuses: [6xx]',
        'logging:',
        '  level: loud',
        'surprise: true',
      ].join('\n'),
    );

    assert.deepEqual(
      problems.map((p) => [p.line, p.path]),
      [
        [3, 'circuit_breakers.defaults.failure_threshold'],
        [4, 'circuit_breakers.defaults.timeout_seconds'],
        [5, 'circuit_breakers.defaults.failure_statuses.0'],
        [7, 'logging.level'],
        [8, 'surprise'],
      ],
    );
  });

  const rejected = [
    { name: 'a YAML syntax error', yaml: 'server:\n  grpc_address: [unclosed\n', line: 3 },
    { name: 'a duplicate key', yaml: 'logging:\n  level: info\n  level: debug\n', line: 3 },
    { name: 'an address without a port', yaml: 'server:\n  grpc_address: localhost\n', line: 2 },
    { name: 'a port over 65535', yaml: 'server:\n  admin_address: 127.0.0.1:70000\n', line: 2 },
    { name: 'an upper-case header source', yaml: 'upstream:\n  sources: [header:X-Up]\n', line: 2 },
    { name: 'a list where a map belongs', yaml: 'circuit_breakers: [1, 2]\n', line: 1 },
  ];

  for (const { name, yaml, line } of rejected) {
    it(`rejects ${name} with its line`, () => {
      const problems = problemsOf(yaml);

      assert.ok(problems.length > 0);
      assert.equal(problems[0]?.line, line, JSON.stringify(problems));
    });
  }

  it('rejects an alias bomb instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');

    const problems = problemsOf(bomb);

    assert.match(problems[0]?.message ?? '', /cannot expand the file/);
  });
});

describe('loadConfigFile', () => {
  async function tempFile(content: string | Buffer) {
    const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-config-'));
    const file = path.join(dir, 'tollgate.yaml');
    await writeFile(file, content);
    return file;
  }

  it('loads the bundled config', async () => {
    const result = await loadConfigFile('config/tollgate.yaml');

    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.match(result.config.source.version, /^[0-9a-f]{12}$/);
  });

  it('refuses a file over the size limit without parsing it', async () => {
    const file = await tempFile(Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));

    const result = await loadConfigFile(file);

    assert.equal(result.ok, false);
    assert.match(!result.ok ? (result.problems[0]?.message ?? '') : '', /limit is/);
  });

  it('reports a missing file as a problem, not an exception', async () => {
    const result = await loadConfigFile('/nonexistent/tollgate.yaml');

    assert.equal(result.ok, false);
    assert.match(!result.ok ? (result.problems[0]?.message ?? '') : '', /cannot read the file/);
  });

  it('throws a ConfigError listing every problem at start-up', async () => {
    const file = await tempFile('server:\n  grpc_adress: x\nlogging:\n  level: 3\n');

    await assert.rejects(loadConfigOrThrow(file), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      assert.match(error.message, /\(2 problems\)/);
      assert.match(error.message, /line 2: server\.grpc_adress: unknown key/);
      assert.match(error.message, /line 4: logging\.level:/);
      return true;
    });
  });
});

describe('formatProblems', () => {
  it('names the file and puts each problem on its own line', () => {
    const text = formatProblems('a.yaml', [
      { path: 'x.y', line: 4, message: 'bad' },
      { path: '', message: 'worse' },
    ]);

    assert.equal(text, 'config a.yaml is invalid (2 problems):\n  line 4: x.y: bad\n  worse');
  });
});
