import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';
import type { ConfigProblem } from '../../src/config/config-error.js';

function problemsOf(yaml: string): ConfigProblem[] {
  const result = parseConfigText(yaml, 'test.yaml');
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.problems;
}

/** A one-cluster file whose cluster body is `body` (indented under `- name: llm`). */
function cluster(body: string, endpoints = '[{ address: 10.0.0.1, port: 8000 }]'): string {
  return `clusters:\n  - name: llm\n    endpoints: ${endpoints}\n${body}`;
}

/** A cluster whose `checks:` are `checks` (each line indented six spaces). */
function checks(lines: string): string {
  return cluster(`    checks:\n${lines}`);
}

interface Rejection {
  what: string;
  yaml: string;
  path: string;
  line: number;
  message: RegExp;
}

const rejected: Rejection[] = [
  {
    what: 'an unknown cluster key',
    yaml: cluster('    endpoint: []\n'),
    path: 'clusters.0.endpoint',
    line: 4,
    message: /unknown key/,
  },
  {
    what: 'an unknown key inside a check',
    yaml: checks('      inference_probe: { model: m, modle: m }\n'),
    path: 'clusters.0.checks.inference_probe.modle',
    line: 5,
    message: /unknown key/,
  },
  {
    what: 'an inference probe without a model',
    yaml: checks('      inference_probe: { endpoint: /v1/completions }\n'),
    path: 'clusters.0.checks.inference_probe.model',
    line: 5,
    message: /expected/,
  },
  {
    what: 'queue thresholds in the wrong order',
    yaml: checks(
      '      queue_depth: { endpoint: /q, degraded_threshold: 50, unhealthy_threshold: 10 }\n',
    ),
    path: 'clusters.0.checks.queue_depth.degraded_threshold',
    line: 5,
    message: /must not exceed unhealthy_threshold/,
  },
  {
    what: 'a queue depth with nowhere to read it',
    yaml: checks(
      '      inference_probe: { model: m }\n      queue_depth: { degraded_threshold: 5 }\n',
    ),
    path: 'clusters.0.checks.queue_depth',
    line: 6,
    message: /set header, body_field, or an endpoint/,
  },
  {
    what: 'a queue depth read from a probe that does not exist',
    yaml: checks('      queue_depth: { header: x-queue-depth }\n'),
    path: 'clusters.0.checks.queue_depth',
    line: 5,
    message: /needs checks\.inference_probe/,
  },
  {
    what: 'warmth detection without an inference probe',
    yaml: checks('      warmth_detection: { sample_size: 3 }\n'),
    path: 'clusters.0.checks.warmth_detection',
    line: 5,
    message: /needs checks\.inference_probe/,
  },
  {
    what: 'a model status pattern without {model}',
    yaml: checks('      model_status: { endpoint_pattern: /v1/models, models: [m] }\n'),
    path: 'clusters.0.checks.model_status.endpoint_pattern',
    line: 5,
    message: /\{model\}/,
  },
  {
    what: 'a model status with no models',
    yaml: checks("      model_status: { endpoint_pattern: '/m/{model}', models: [] }\n"),
    path: 'clusters.0.checks.model_status.models',
    line: 5,
    message: /at least one model/,
  },
  {
    what: 'a malformed dotted status field',
    yaml: checks(
      "      model_status: { endpoint_pattern: '/m/{model}', models: [m],\n" +
        '                      status_field: a..b }\n',
    ),
    path: 'clusters.0.checks.model_status.status_field',
    line: 6,
    message: /dotted field/,
  },
  {
    what: 'a probe path without a leading slash',
    yaml: checks('      inference_probe: { model: m, endpoint: v1/completions }\n'),
    path: 'clusters.0.checks.inference_probe.endpoint',
    line: 5,
    message: /starting with \//,
  },
  {
    what: 'an upper-case queue header',
    yaml: checks('      queue_depth: { header: X-Queue-Depth, endpoint: /q }\n'),
    path: 'clusters.0.checks.queue_depth.header',
    line: 5,
    message: /lower-case header name/,
  },
  {
    what: 'an unknown cold action',
    yaml: checks(
      '      inference_probe: { model: m }\n      warmth_detection: { cold_action: nap }\n',
    ),
    path: 'clusters.0.checks.warmth_detection.cold_action',
    line: 6,
    message: /log_only/,
  },
  {
    what: 'a cold multiplier under 1',
    yaml: checks(
      '      inference_probe: { model: m }\n' +
        '      warmth_detection: { cold_threshold_multiplier: 0.5 }\n',
    ),
    path: 'clusters.0.checks.warmth_detection.cold_threshold_multiplier',
    line: 6,
    message: /at least 1/,
  },
  {
    what: 'a duration in words',
    yaml: checks('      interval: 10 seconds\n'),
    path: 'clusters.0.checks.interval',
    line: 5,
    message: /duration such as 500ms/,
  },
  {
    what: 'an interval under 50 ms',
    yaml: checks('      interval: 10ms\n'),
    path: 'clusters.0.checks.interval',
    line: 5,
    message: /between 50 ms/,
  },
  {
    what: 'a zero threshold',
    yaml: checks('      unhealthy_threshold: 0\n'),
    path: 'clusters.0.checks.unhealthy_threshold',
    line: 5,
    message: /at least 1/,
  },
  {
    what: 'a host name where an IP belongs',
    yaml: cluster('', '[{ address: gpu-1.internal, port: 8000 }]'),
    path: 'clusters.0.endpoints.0.address',
    line: 3,
    message: /IPv4 or IPv6 address/,
  },
  {
    what: 'a port over 65535',
    yaml: cluster('', '[{ address: 10.0.0.1, port: 70000 }]'),
    path: 'clusters.0.endpoints.0.port',
    line: 3,
    message: /at most 65535/,
  },
  {
    what: 'an unknown scheme',
    yaml: cluster('', '[{ address: 10.0.0.1, port: 1, scheme: grpc }]'),
    path: 'clusters.0.endpoints.0.scheme',
    line: 3,
    message: /https/,
  },
  {
    what: 'no endpoints',
    yaml: cluster('', '[]'),
    path: 'clusters.0.endpoints',
    line: 3,
    message: /at least one endpoint/,
  },
  {
    what: 'an endpoint listed twice',
    yaml: cluster('', '[{ address: 10.0.0.1, port: 1 }, { address: 10.0.0.1, port: 1 }]'),
    path: 'clusters.0.endpoints.1.port',
    line: 3,
    message: /listed twice/,
  },
  {
    what: 'a gap in the priorities',
    yaml: cluster('', '[{ address: 10.0.0.1, port: 1, priority: 1 }]'),
    path: 'clusters.0.endpoints',
    line: 3,
    message: /none has priority 0/,
  },
  {
    what: 'a degraded weight factor of 0',
    yaml: cluster('    degraded_weight_factor: 0\n'),
    path: 'clusters.0.degraded_weight_factor',
    line: 4,
    message: /more than 0/,
  },
  {
    what: 'a degraded weight factor over 1',
    yaml: cluster('    degraded_weight_factor: 1.5\n'),
    path: 'clusters.0.degraded_weight_factor',
    line: 4,
    message: /1/,
  },
  {
    what: 'an unknown degraded health status',
    yaml: cluster('    degraded_health_status: draining\n'),
    path: 'clusters.0.degraded_health_status',
    line: 4,
    message: /degraded/,
  },
];

describe('clusters: schema errors', () => {
  for (const { what, yaml, path, line, message } of rejected) {
    it(`rejects ${what} with its path and line`, () => {
      const problems = problemsOf(yaml);

      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]?.path, path);
      assert.equal(problems[0]?.line, line);
      assert.match(problems[0]?.message ?? '', message);
    });
  }

  it('rejects a cluster name listed twice at the second one', () => {
    const endpoint = '[{ address: 10.0.0.1, port: 1 }]';
    const problems = problemsOf(
      `clusters:\n  - { name: a, endpoints: ${endpoint} }\n` +
        `  - { name: a, endpoints: ${endpoint} }\n`,
    );

    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line]),
      [['clusters.1.name', 3]],
    );
    assert.match(problems[0]?.message ?? '', /cluster "a" is listed twice/);
  });

  it('reports the problems of every cluster at once', () => {
    const problems = problemsOf(`clusters:
  - name: a
    endpoints: [{ address: nowhere, port: 1 }]
  - name: b
    endpoints: [{ address: 10.0.0.1, port: 1 }]
    checks: { interval: soon, timeout: 0 }
`);

    const paths = problems.map((problem) => problem.path);
    assert.deepEqual(paths, [
      'clusters.0.endpoints.0.address',
      'clusters.1.checks.interval',
      'clusters.1.checks.timeout',
    ]);
  });

  it('reports a cross-field problem beside an unrelated one in the same cluster', () => {
    const problems = problemsOf(
      checks(
        '      interval: soon\n' +
          '      queue_depth: { endpoint: /q, degraded_threshold: 9, unhealthy_threshold: 1 }\n',
      ),
    );

    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['clusters.0.checks.interval', 'clusters.0.checks.queue_depth.degraded_threshold'],
    );
  });
});
