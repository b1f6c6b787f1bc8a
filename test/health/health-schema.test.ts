import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';

function clustersOf(yaml: string) {
  const result = parseConfigText(yaml, '/etc/tollgate/tollgate.yaml');
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config.clusters;
}

const EVERY_KEY = `clusters:
  - name: llm_backend
    endpoints:
      - address: 10.0.0.7
        port: 8443
        scheme: https
        hostname: gpu-7.internal
        locality: { region: eu-west-1, zone: eu-west-1a, sub_zone: rack-3 }
        priority: 0
        weight: 40
      - { address: '::1', port: 8000, priority: 1 }
    checks:
      interval: 1.5m
      interval_jitter: 250ms
      interval_jitter_percent: 0
      timeout: 4
      healthy_threshold: 1
      unhealthy_threshold: 5
      max_body_bytes: 4096
      headers: { authorization: Bearer probe-key }
      tls: { ca_file: certs/ca.pem, server_name: gpu.internal, insecure_skip_verify: false }
      inference_probe:
        endpoint: /v1/chat/completions
        model: llama-3-8b
        prompt: ping
        max_tokens: 2
        timeout_secs: 2.5
        max_latency_ms: 1500
      model_status:
        endpoint_pattern: /v1/models/{model}/status
        models: [llama-3-8b, llama-3-70b]
        expected_status: loaded
        status_field: data.state
        timeout_secs: 1
      queue_depth:
        header: x-queue-depth
        body_field: queue.depth
        endpoint: /metrics/queue
        degraded_threshold: 10
        unhealthy_threshold: 50
        timeout_secs: 0.5
      warmth_detection:
        sample_size: 5
        cold_threshold_multiplier: 3
        idle_cold_timeout_secs: 120
        cold_action: mark_degraded
    degraded_weight_factor: 0.25
    degraded_health_status: degraded
    panic_threshold_percent: 30
`;

describe('clusters: schema', () => {
  it('has no clusters when the section is absent', () => {
    assert.deepEqual(clustersOf(''), []);
  });

  it('fills every default of a cluster with only a name and an endpoint', () => {
    const [cluster] = clustersOf(
      'clusters:\n  - { name: llm, endpoints: [{ address: 10.0.0.1, port: 8000 }] }\n',
    );

    assert.deepEqual(cluster, {
      name: 'llm',
      endpoints: [
        {
          key: '10.0.0.1:8000',
          address: '10.0.0.1',
          port: 8000,
          scheme: 'http',
          hostname: undefined,
          locality: undefined,
          priority: 0,
          weight: 100,
        },
      ],
      checks: {
        intervalMs: 10_000,
        jitterMs: 0,
        jitterPercent: 10,
        timeoutMs: 5000,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        maxBodyBytes: 65_536,
        headers: {},
        tls: undefined,
        inferenceProbe: undefined,
        modelStatus: undefined,
        queueDepth: undefined,
        warmth: undefined,
      },
      degradedWeightFactor: 0.5,
      degradedHealthStatus: 'HEALTHY',
      panicThresholdPercent: 50,
    });
  });

  it('fills the defaults of each check', () => {
    const [cluster] = clustersOf(`clusters:
  - name: llm
    endpoints: [{ address: 10.0.0.1, port: 8000 }]
    checks:
      timeout: 3s
      inference_probe: { model: m }
      model_status: { endpoint_pattern: '/v1/models/{model}', models: [m] }
      queue_depth: { header: x-queue-depth }
      warmth_detection: {}
`);
    const checks = cluster!.checks;

    assert.deepEqual(checks.inferenceProbe, {
      endpoint: '/v1/completions',
      model: 'm',
      prompt: '.',
      maxTokens: 1,
      timeoutMs: 3000,
      maxLatencyMs: undefined,
    });
    assert.deepEqual(checks.modelStatus, {
      endpointPattern: '/v1/models/{model}',
      models: ['m'],
      expectedStatus: 'ready',
      statusField: 'status',
      timeoutMs: 3000,
    });
    assert.deepEqual(checks.queueDepth, {
      header: 'x-queue-depth',
      bodyField: undefined,
      endpoint: undefined,
      degradedThreshold: 100,
      unhealthyThreshold: 500,
      timeoutMs: 3000,
    });
    assert.deepEqual(checks.warmth, {
      sampleSize: 10,
      coldThresholdMultiplier: 2,
      idleColdTimeoutMs: 300_000,
      coldAction: 'log_only',
    });
  });

  it('compiles every key, in Envoy duration spelling or seconds', () => {
    const [cluster] = clustersOf(EVERY_KEY);
    const [gpu, local] = cluster!.endpoints;

    assert.deepEqual(gpu, {
      key: '10.0.0.7:8443',
      address: '10.0.0.7',
      port: 8443,
      scheme: 'https',
      hostname: 'gpu-7.internal',
      locality: { region: 'eu-west-1', zone: 'eu-west-1a', subZone: 'rack-3' },
      priority: 0,
      weight: 40,
    });
    assert.equal(local?.key, '[::1]:8000', 'IPv6 keys are bracketed');
    assert.equal(local?.priority, 1);
    assert.deepEqual(cluster!.checks, {
      intervalMs: 90_000,
      jitterMs: 250,
      jitterPercent: 0,
      timeoutMs: 4000,
      healthyThreshold: 1,
      unhealthyThreshold: 5,
      maxBodyBytes: 4096,
      headers: { authorization: 'Bearer probe-key' },
      tls: {
        caFile: '/etc/tollgate/certs/ca.pem',
        serverName: 'gpu.internal',
        insecureSkipVerify: false,
      },
      inferenceProbe: {
        endpoint: '/v1/chat/completions',
        model: 'llama-3-8b',
        prompt: 'ping',
        maxTokens: 2,
        timeoutMs: 2500,
        maxLatencyMs: 1500,
      },
      modelStatus: {
        endpointPattern: '/v1/models/{model}/status',
        models: ['llama-3-8b', 'llama-3-70b'],
        expectedStatus: 'loaded',
        statusField: 'data.state',
        timeoutMs: 1000,
      },
      queueDepth: {
        header: 'x-queue-depth',
        bodyField: 'queue.depth',
        endpoint: '/metrics/queue',
        degradedThreshold: 10,
        unhealthyThreshold: 50,
        timeoutMs: 500,
      },
      warmth: {
        sampleSize: 5,
        coldThresholdMultiplier: 3,
        idleColdTimeoutMs: 120_000,
        coldAction: 'mark_degraded',
      },
    });
    assert.equal(cluster!.degradedWeightFactor, 0.25);
    assert.equal(cluster!.degradedHealthStatus, 'DEGRADED');
    assert.equal(cluster!.panicThresholdPercent, 30);
  });

  it('freezes the compiled clusters with the rest of the config', () => {
    const [cluster] = clustersOf(EVERY_KEY);

    assert.ok(Object.isFrozen(cluster));
    assert.ok(Object.isFrozen(cluster!.checks.inferenceProbe));
  });
});
