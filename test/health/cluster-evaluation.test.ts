import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { BreakerStateKind } from '../../src/breaker/breaker-state.js';
import { evaluateCluster, type EndpointInput } from '../../src/health/cluster-evaluation.js';
import type { HealthStatus, Verdict } from '../../src/health/health-status.js';
import { compileTestCluster } from './health-fixtures.js';

/** A cluster of `count` endpoints 10.0.0.1..N:8000, weight 100, with an inference probe. */
function cluster(count: number, extra: Record<string, unknown> = {}, priorities: number[] = []) {
  return compileTestCluster({
    name: 'llm',
    endpoints: Array.from({ length: count }, (_, index) => ({
      address: `10.0.0.${index + 1}`,
      port: 8000,
      priority: priorities[index] ?? 0,
      weight: 100,
    })),
    checks: { inference_probe: { model: 'm' } },
    ...extra,
  });
}

function probe(status: HealthStatus): Verdict {
  if (status === 'HEALTHY') return { status, reasons: [] };
  return { status, reasons: [{ check: 'inference_probe', status, detail: 'HTTP 503' }] };
}

/** Evaluates `config` with per-endpoint probe statuses and breaker states (undefined: none). */
function evaluate(
  config: ReturnType<typeof cluster>,
  statuses: Array<HealthStatus | undefined>,
  breakers: Array<BreakerStateKind | undefined> = [],
) {
  const inputs: EndpointInput[] = config.endpoints.map((endpoint, index) => {
    const status = statuses[index];
    return { config: endpoint, probe: status && probe(status), breaker: breakers[index] };
  });
  return evaluateCluster(config, inputs);
}

function published(evaluation: ReturnType<typeof evaluate>) {
  return evaluation.endpoints.map((endpoint) => [
    endpoint.status,
    endpoint.envoyHealth,
    endpoint.weight,
  ]);
}

describe('evaluateCluster: status to weight', () => {
  it('publishes an endpoint not yet probed as UNKNOWN, which Envoy routes to', () => {
    assert.deepEqual(published(evaluate(cluster(1), [undefined])), [['HEALTHY', 'UNKNOWN', 100]]);
  });

  it('publishes every endpoint HEALTHY in a cluster without checks', () => {
    const config = cluster(1, { checks: {} });

    assert.deepEqual(published(evaluate(config, [undefined])), [['HEALTHY', 'HEALTHY', 100]]);
  });

  const factors: Array<{ factor: number; weight: number; degraded: number }> = [
    { factor: 0.5, weight: 100, degraded: 50 },
    { factor: 0.25, weight: 10, degraded: 3 },
    { factor: 0.01, weight: 10, degraded: 1 },
    { factor: 1, weight: 7, degraded: 7 },
  ];

  for (const { factor, weight, degraded } of factors) {
    it(`lowers a DEGRADED weight ${weight} to ${degraded} with factor ${factor}`, () => {
      const config = compileTestCluster({
        name: 'llm',
        endpoints: [
          { address: '10.0.0.1', port: 1, weight },
          { address: '10.0.0.2', port: 1 },
        ],
        checks: { inference_probe: { model: 'm' } },
        degraded_weight_factor: factor,
      });

      const [endpoint] = evaluate(config, ['DEGRADED', 'HEALTHY']).endpoints;

      assert.equal(endpoint?.weight, degraded);
      assert.equal(endpoint?.envoyHealth, 'HEALTHY');
    });
  }

  it('publishes DEGRADED as Envoy DEGRADED when degraded_health_status says so', () => {
    const config = cluster(2, { degraded_health_status: 'degraded' });

    assert.deepEqual(published(evaluate(config, ['DEGRADED', 'HEALTHY'])), [
      ['DEGRADED', 'DEGRADED', 50],
      ['HEALTHY', 'HEALTHY', 100],
    ]);
  });

  it('keeps the configured weight of an UNHEALTHY endpoint (Envoy needs at least 1)', () => {
    assert.deepEqual(published(evaluate(cluster(2), ['UNHEALTHY', 'HEALTHY']))[0], [
      'UNHEALTHY',
      'UNHEALTHY',
      100,
    ]);
  });
});

describe('evaluateCluster: circuit breakers', () => {
  const cases: Array<{
    what: string;
    probe: HealthStatus | undefined;
    breaker: BreakerStateKind;
    expected: [HealthStatus, string, number];
  }> = [
    {
      what: 'an open breaker',
      probe: 'HEALTHY',
      breaker: 'open',
      expected: ['UNHEALTHY', 'UNHEALTHY', 100],
    },
    {
      what: 'an open breaker before the first probe',
      probe: undefined,
      breaker: 'open',
      expected: ['UNHEALTHY', 'UNHEALTHY', 100],
    },
    {
      what: 'a half-open breaker',
      probe: 'HEALTHY',
      breaker: 'half_open',
      expected: ['DEGRADED', 'HEALTHY', 1],
    },
    {
      what: 'a half-open breaker over DEGRADED probes',
      probe: 'DEGRADED',
      breaker: 'half_open',
      expected: ['DEGRADED', 'HEALTHY', 1],
    },
    {
      what: 'a half-open breaker over UNHEALTHY probes',
      probe: 'UNHEALTHY',
      breaker: 'half_open',
      expected: ['UNHEALTHY', 'UNHEALTHY', 100],
    },
    {
      what: 'a closed breaker',
      probe: 'HEALTHY',
      breaker: 'closed',
      expected: ['HEALTHY', 'HEALTHY', 100],
    },
  ];

  for (const { what, probe: status, breaker, expected } of cases) {
    it(`publishes ${expected.join(' / ')} for ${what}`, () => {
      const evaluation = evaluate(cluster(2), [status, 'HEALTHY'], [breaker, undefined]);

      assert.deepEqual(published(evaluation)[0], expected);
    });
  }

  it('names the breaker in the reasons', () => {
    const [endpoint] = evaluate(cluster(2), ['HEALTHY', 'HEALTHY'], ['half_open']).endpoints;

    assert.deepEqual(endpoint?.reasons, [
      {
        check: 'circuit_breaker',
        status: 'DEGRADED',
        detail:
          'circuit breaker 10.0.0.1:8000 is half-open: published at weight 1 so its trials arrive',
        value: 'half_open',
      },
    ]);
  });
});

describe('evaluateCluster: routable guard and panic threshold', () => {
  it('keeps the first endpoint routable when every endpoint is UNHEALTHY', () => {
    const evaluation = evaluate(cluster(3), ['UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY']);

    assert.deepEqual(published(evaluation), [
      ['DEGRADED', 'HEALTHY', 50],
      ['UNHEALTHY', 'UNHEALTHY', 100],
      ['UNHEALTHY', 'UNHEALTHY', 100],
    ]);
    assert.equal(evaluation.endpoints[0]?.reasons.at(-1)?.check, 'routable_guard');
  });

  it('keeps one whose breaker is not open, preferring the highest priority', () => {
    const evaluation = evaluate(
      cluster(3, {}, [1, 0, 0]),
      ['UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY'],
      [undefined, 'open', undefined],
    );

    assert.deepEqual(
      evaluation.endpoints.map((endpoint) => endpoint.envoyHealth),
      ['UNHEALTHY', 'UNHEALTHY', 'HEALTHY'],
    );
  });

  it('leaves the cluster alone while one endpoint is routable', () => {
    const evaluation = evaluate(cluster(3), ['UNHEALTHY', 'UNHEALTHY', 'DEGRADED']);

    assert.ok(
      evaluation.endpoints.every((endpoint) =>
        endpoint.reasons.every((r) => r.check !== 'routable_guard'),
      ),
    );
  });

  const panics: Array<{ statuses: HealthStatus[]; threshold: number; below: boolean }> = [
    { statuses: ['HEALTHY', 'HEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 50, below: false },
    { statuses: ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 50, below: true },
    { statuses: ['DEGRADED', 'DEGRADED', 'UNHEALTHY', 'UNHEALTHY'], threshold: 50, below: false },
    { statuses: ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 25, below: false },
    { statuses: ['HEALTHY', 'HEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 80, below: true },
    // 3 of 4 healthy × Envoy's overprovisioning 1.4 is full capacity: no panic at any threshold.
    { statuses: ['HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY'], threshold: 80, below: false },
  ];

  for (const { statuses, threshold, below } of panics) {
    const verdict = below ? 'panics' : 'does not panic';
    it(`${verdict} at ${threshold}% with ${statuses.join(',')}`, () => {
      const evaluation = evaluate(cluster(4, { panic_threshold_percent: threshold }), statuses);

      assert.equal(evaluation.panic[0]?.below, below);
    });
  }

  it('sees no panic in a backup priority while the first one has the capacity', () => {
    const evaluation = evaluate(cluster(4, {}, [0, 0, 1, 1]), [
      'HEALTHY',
      'HEALTHY',
      'UNHEALTHY',
      'UNHEALTHY',
    ]);

    assert.deepEqual(evaluation.panic, [
      { priority: 0, routable: 2, total: 2, below: false },
      { priority: 1, routable: 0, total: 2, below: false },
    ]);
  });

  it('judges each priority level once the whole cluster lacks capacity', () => {
    // Availability: 1/5 × 140 = 28 plus 1/2 × 140 = 70, short of 100.
    const U = 'UNHEALTHY';
    const evaluation = evaluate(cluster(7, {}, [0, 0, 0, 0, 0, 1, 1]), [
      'HEALTHY',
      U,
      U,
      U,
      U,
      'HEALTHY',
      U,
    ]);

    assert.deepEqual(evaluation.panic, [
      { priority: 0, routable: 1, total: 5, below: true },
      { priority: 1, routable: 1, total: 2, below: false },
    ]);
  });
});
