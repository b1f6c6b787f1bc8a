import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HealthThresholds } from '../../src/health/health-thresholds.js';
import type { HealthStatus, Verdict } from '../../src/health/health-status.js';

const LETTER: Record<string, HealthStatus> = { H: 'HEALTHY', D: 'DEGRADED', U: 'UNHEALTHY' };

function verdict(status: HealthStatus, round: number): Verdict {
  if (status === 'HEALTHY') return { status, reasons: [] };
  return { status, reasons: [{ check: 'inference_probe', status, detail: `round ${round}` }] };
}

/** Feeds rounds written as letters (`HUUD`); returns the stable status after each, as letters. */
function stableAfterEach(rounds: string, healthy: number, unhealthy: number): string {
  const thresholds = new HealthThresholds();
  return [...rounds]
    .map((letter, index) =>
      thresholds.record(verdict(LETTER[letter]!, index), { healthy, unhealthy }),
    )
    .map((stable) => stable.status[0])
    .join('');
}

describe('HealthThresholds', () => {
  const cases: Array<{
    what: string;
    rounds: string;
    healthy: number;
    unhealthy: number;
    stable: string;
  }> = [
    { what: 'adopts the first round at once', rounds: 'U', healthy: 2, unhealthy: 3, stable: 'U' },
    {
      what: 'turns UNHEALTHY after unhealthy_threshold failing rounds',
      rounds: 'HUUU',
      healthy: 2,
      unhealthy: 3,
      stable: 'HHHU',
    },
    {
      what: 'restarts the count when a good round interrupts',
      rounds: 'HUUHUUU',
      healthy: 2,
      unhealthy: 3,
      stable: 'HHHHHHU',
    },
    {
      what: 'turns HEALTHY again after healthy_threshold good rounds',
      rounds: 'UHUHH',
      healthy: 2,
      unhealthy: 3,
      stable: 'UUUUH',
    },
    {
      what: 'settles on the mildest status a worsening streak agrees on',
      rounds: 'HUDU',
      healthy: 2,
      unhealthy: 3,
      stable: 'HHHD',
    },
    {
      what: 'settles on the worst status an improving streak agrees on',
      rounds: 'UHD',
      healthy: 2,
      unhealthy: 1,
      stable: 'UUD',
    },
    {
      what: 'moves on every round with thresholds of 1',
      rounds: 'HUHDH',
      healthy: 1,
      unhealthy: 1,
      stable: 'HUHDH',
    },
  ];

  for (const { what, rounds, healthy, unhealthy, stable } of cases) {
    it(`${what} (${rounds} → ${stable})`, () => {
      assert.equal(stableAfterEach(rounds, healthy, unhealthy), stable);
    });
  }

  it('refreshes the reasons from each round with the current status', () => {
    const thresholds = new HealthThresholds();
    const limits = { healthy: 2, unhealthy: 2 };

    thresholds.record(verdict('UNHEALTHY', 1), limits);
    const latest = thresholds.record(verdict('UNHEALTHY', 2), limits);

    assert.equal(latest.reasons[0]?.detail, 'round 2');
  });

  it('reports the latest reasons of the streak once it settles', () => {
    const thresholds = new HealthThresholds();
    const limits = { healthy: 1, unhealthy: 2 };

    thresholds.record(verdict('HEALTHY', 0), limits);
    thresholds.record(verdict('UNHEALTHY', 1), limits);
    const settled = thresholds.record(verdict('UNHEALTHY', 2), limits);

    assert.deepEqual(settled, verdict('UNHEALTHY', 2));
  });
});
