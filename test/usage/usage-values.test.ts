import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  isTokenCount,
  mergeUsage,
  readCount,
  toTokenUsage,
  type PartialUsage,
} from '../../src/usage/response/usage-values.js';

describe('isTokenCount', () => {
  const cases: [string, unknown, boolean][] = [
    ['zero', 0, true],
    ['a positive integer', 1234, true],
    ['the bound', 10_000_000_000, true],
    ['past the bound', 10_000_000_001, false],
    ['1e20', 1e20, false],
    ['a negative integer', -5, false],
    ['a fraction', 2.5, false],
    ['NaN', Number.NaN, false],
    ['Infinity', Number.POSITIVE_INFINITY, false],
    ['a numeric string', '12', false],
    ['a boolean', true, false],
    ['an object', { value: 1 }, false],
    ['an array', [1], false],
  ];

  for (const [name, value, trusted] of cases) {
    it(`${trusted ? 'trusts' : 'rejects'} ${name}`, () => {
      assert.equal(isTokenCount(value), trusted);
    });
  }
});

describe('readCount', () => {
  it('treats undefined and null as absent', () => {
    assert.deepEqual(readCount(undefined), { kind: 'absent' });
    assert.deepEqual(readCount(null), { kind: 'absent' });
  });

  it('returns trusted counts and rejects the rest', () => {
    assert.deepEqual(readCount(7), { kind: 'trusted', value: 7 });
    assert.deepEqual(readCount('7'), { kind: 'rejected' });
  });
});

describe('mergeUsage', () => {
  const cases: [string, PartialUsage, PartialUsage, PartialUsage][] = [
    ['keeps the larger of two counts', { output: 15 }, { output: 1 }, { output: 15 }],
    ['takes a later larger count', { output: 1 }, { output: 15 }, { output: 15 }],
    [
      'never erases a count the later reading lacks',
      { input: 25 },
      { output: 9 },
      { input: 25, output: 9 },
    ],
    [
      'takes input counts a later event fills in (compatible servers)',
      { input: 0, output: 1 },
      { input: 9, output: 12 },
      { input: 9, output: 12 },
    ],
    [
      'merges every count',
      { input: 1, cachedInput: 5, cacheCreation: 2, output: 3, reasoning: 0, total: 4 },
      { input: 2, cachedInput: 1, cacheCreation: 3, output: 1, reasoning: 1, total: 9 },
      { input: 2, cachedInput: 5, cacheCreation: 3, output: 3, reasoning: 1, total: 9 },
    ],
    ['keeps an empty reading empty', {}, {}, {}],
  ];

  for (const [name, a, b, merged] of cases) {
    it(name, () => {
      assert.deepEqual(mergeUsage(a, b), merged);
    });
  }
});

describe('toTokenUsage', () => {
  const cases: [string, PartialUsage, ReturnType<typeof toTokenUsage>][] = [
    [
      'fills counts never stated with 0 and totals input and output',
      { input: 10, output: 5 },
      { input: 10, cachedInput: 0, cacheCreation: 0, output: 5, reasoning: 0, total: 15 },
    ],
    [
      "keeps the provider's total when it states one",
      { input: 10, output: 5, total: 18 },
      { input: 10, cachedInput: 0, cacheCreation: 0, output: 5, reasoning: 0, total: 18 },
    ],
    [
      'replaces a total smaller than input plus output',
      { input: 10, output: 5, total: 12 },
      { input: 10, cachedInput: 0, cacheCreation: 0, output: 5, reasoning: 0, total: 15 },
    ],
    [
      'keeps parts within their whole',
      { input: 10, cachedInput: 8, cacheCreation: 6, output: 5, reasoning: 9 },
      { input: 10, cachedInput: 8, cacheCreation: 2, output: 5, reasoning: 5, total: 15 },
    ],
    [
      'reads an empty reading as zero usage',
      {},
      { input: 0, cachedInput: 0, cacheCreation: 0, output: 0, reasoning: 0, total: 0 },
    ],
  ];

  for (const [name, partial, usage] of cases) {
    it(name, () => {
      assert.deepEqual(toTokenUsage(partial), usage);
    });
  }
});
