import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  nextPeriod,
  periodAt,
  previousPeriod,
  secondsToNextPeriod,
  type BudgetPeriod,
} from '../../src/budget/budget-period.js';

const iso = (ms: number) => new Date(ms).toISOString();

function window(period: BudgetPeriod, at: string): [string, string] {
  const found = periodAt(period, Date.parse(at));
  return [iso(found.startMs), iso(found.endMs)];
}

describe('budget periods', () => {
  const cases: Array<[string, BudgetPeriod, string, [string, string]]> = [
    [
      'hourly at the top of the hour',
      { kind: 'hourly' },
      '2031-05-20T13:59:59.999Z',
      ['2031-05-20T13:00:00.000Z', '2031-05-20T14:00:00.000Z'],
    ],
    [
      'daily at UTC midnight',
      { kind: 'daily' },
      '2031-05-20T00:00:00.000Z',
      ['2031-05-20T00:00:00.000Z', '2031-05-21T00:00:00.000Z'],
    ],
    [
      'monthly over a 31-day month',
      { kind: 'monthly' },
      '2031-01-31T23:59:59.000Z',
      ['2031-01-01T00:00:00.000Z', '2031-02-01T00:00:00.000Z'],
    ],
    [
      'monthly over a 28-day February',
      { kind: 'monthly' },
      '2031-02-14T08:00:00.000Z',
      ['2031-02-01T00:00:00.000Z', '2031-03-01T00:00:00.000Z'],
    ],
    [
      'monthly over a leap February',
      { kind: 'monthly' },
      '2032-02-29T12:00:00.000Z',
      ['2032-02-01T00:00:00.000Z', '2032-03-01T00:00:00.000Z'],
    ],
    [
      'monthly across the year end',
      { kind: 'monthly' },
      '2031-12-31T23:00:00.000Z',
      ['2031-12-01T00:00:00.000Z', '2032-01-01T00:00:00.000Z'],
    ],
    [
      'custom periods at multiples of their length since the epoch',
      { kind: 'custom', seconds: 7 * 3600 },
      '1970-01-01T15:00:00.000Z',
      ['1970-01-01T14:00:00.000Z', '1970-01-01T21:00:00.000Z'],
    ],
  ];

  for (const [name, period, at, expected] of cases) {
    it(`aligns ${name}`, () => assert.deepEqual(window(period, at), expected));
  }

  it('finds the neighbouring months with their own lengths', () => {
    const march = periodAt({ kind: 'monthly' }, Date.parse('2031-03-10T00:00:00Z'));
    const before = previousPeriod({ kind: 'monthly' }, march);
    const next = nextPeriod({ kind: 'monthly' }, march);
    assert.deepEqual(
      [iso(before.startMs), iso(next.endMs)],
      ['2031-02-01T00:00:00.000Z', '2031-05-01T00:00:00.000Z'],
    );
  });

  it('counts whole seconds to the next period, rounding up and never below 1', () => {
    const daily: BudgetPeriod = { kind: 'daily' };
    assert.equal(secondsToNextPeriod(daily, Date.parse('2031-05-20T23:59:00.000Z')), 60);
    assert.equal(secondsToNextPeriod(daily, Date.parse('2031-05-20T23:59:59.001Z')), 1);
    assert.equal(secondsToNextPeriod(daily, Date.parse('2031-05-20T23:59:58.500Z')), 2);
  });
});
