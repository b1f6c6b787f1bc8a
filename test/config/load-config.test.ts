import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { ConfigError, formatProblems } from '../../src/config/config-error.js';
import {
  loadConfigFile,
  loadConfigOrThrow,
  MAX_CONFIG_BYTES,
  parseConfigText,
} from '../../src/config/load-config.js';
import { makeTestPki, type TestPki } from '../helpers/certificates.js';

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

  const rejectedWithMessage = [
    {
      name: 'a reversed status range',
      yaml: 'circuit_breakers:\n  defaults:\n    failure_statuses: ["504-500"]\n',
      message: /range like 500-504/,
    },
    {
      name: 'a status outside 100-599',
      yaml: 'circuit_breakers:\n  defaults:\n    failure_statuses: [600]\n',
      message: /status 100-599/,
    },
    {
      name: 'a fractional threshold',
      yaml: 'circuit_breakers:\n  defaults:\n    failure_threshold: 1.5\n',
      message: /^expected a whole number$/,
    },
    {
      name: 'a huge threshold, with a single message',
      yaml: 'circuit_breakers:\n  defaults:\n    failure_threshold: 1e300\n',
      message: /^must be at most 1000000$/,
    },
    {
      name: 'tls without cert_file',
      yaml: 'server:\n  tls:\n    key_file: k.pem\n',
      message: /cert_file \(the PEM certificate\) is required when tls is set/,
    },
    {
      name: 'require_client_cert without client_ca_file',
      yaml: 'server:\n  tls: { cert_file: c, key_file: k, require_client_cert: true }\n',
      message: /require_client_cert needs client_ca_file/,
    },
    {
      name: 'an explicit !!omap tag',
      yaml: 'circuit_breakers: !!omap [ { enabled: true } ]\n',
      message: /Unresolved tag.*omap; remove the tag/,
    },
    {
      name: 'an explicit !!binary tag',
      yaml: 'server: !!binary aGVsbG8=\n',
      message: /remove the tag/,
    },
    {
      name: 'two YAML documents',
      yaml: 'logging: { level: info }\n---\nlogging: { level: debug }\n',
      message: /more than one YAML document/,
    },
  ];

  for (const { name, yaml, message } of rejectedWithMessage) {
    it(`rejects ${name} with a clear message`, () => {
      const problems = problemsOf(yaml);

      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]?.message ?? '', message);
    });
  }

  it('takes an upstream entry with nothing under it as "use the defaults"', () => {
    const result = parseConfigText('circuit_breakers:\n  upstreams:\n    llm:\n', 'x.yaml');

    assert.ok(result.ok);
    assert.equal(result.config.breakers.upstreams.get('llm')?.failureThreshold, 5);
  });

  it('ignores top-level x- keys, so anchors can be merged into sections', () => {
    const yaml = [
      'x-strict: &strict { failure_threshold: 2, timeout_seconds: 5 }',
      'circuit_breakers:',
      '  upstreams:',
      '    openai: { <<: *strict, timeout_seconds: 9 }',
    ].join('\n');

    const result = parseConfigText(yaml, 'x.yaml');

    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const openai = result.config.breakers.upstreams.get('openai');
    assert.equal(openai?.failureThreshold, 2);
    assert.equal(openai?.timeoutSeconds, 9);
  });

  it('warns that an empty file leaves every setting at its default', () => {
    const result = parseConfigText('# nothing here\n', 'x.yaml');

    assert.ok(result.ok);
    assert.match(result.warnings[0] ?? '', /empty/);
  });

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

  describe('TLS files', () => {
    let pki: TestPki;
    before(() => {
      pki = makeTestPki();
    });

    function tlsYaml(cert: string, key: string, ca?: string) {
      const caLine = ca ? `    client_ca_file: ${ca}\n    require_client_cert: true\n` : '';
      return `server:\n  tls:\n    cert_file: ${cert}\n    key_file: ${key}\n${caLine}`;
    }

    it('accepts readable PEM files that match, relative to the config file', async () => {
      const file = path.join(pki.dir, 'tollgate.yaml');
      await writeFile(file, tlsYaml('server.crt', 'server.key', 'ca.crt'));

      const result = await loadConfigFile(file);

      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
      assert.equal(result.config.server.tls?.certFile, pki.serverCert);
    });

    it('names the key of every TLS file that is missing or not PEM', async () => {
      const notPem = path.join(pki.dir, 'not-a-key.txt');
      await writeFile(notPem, 'this is not a key');
      const file = await tempFile(tlsYaml('/nope/cert.pem', notPem, '/nope/ca.pem'));

      const result = await loadConfigFile(file);

      assert.equal(result.ok, false);
      const problems = result.ok ? [] : result.problems;
      assert.deepEqual(
        problems.map((p) => p.path),
        ['server.tls.cert_file', 'server.tls.key_file', 'server.tls.client_ca_file'],
      );
      assert.match(problems[0]?.message ?? '', /cannot read \/nope\/cert\.pem \(ENOENT\)/);
      assert.match(problems[1]?.message ?? '', /is not a PEM private key/);
    });

    it('reports a key that does not belong to the certificate', async () => {
      const file = await tempFile(tlsYaml(pki.serverCert, pki.clientKey));

      const result = await loadConfigFile(file);

      assert.equal(result.ok, false);
      assert.match(!result.ok ? (result.problems[0]?.message ?? '') : '', /not the private key/);
    });
  });

  it('throws a ConfigError listing every problem at start-up', async () => {
    const file = await tempFile('server:\n  grpc_adress: x\nlogging:\n  level: 3\n');

    await assert.rejects(loadConfigOrThrow(file), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      assert.match(error.message, /was not loaded \(2 problems\)/);
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

    assert.equal(text, 'config a.yaml was not loaded (2 problems):\n  line 4: x.y: bad\n  worse');
  });
});
