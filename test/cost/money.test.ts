import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  decimalPlaces,
  formatNanos,
  nanosToCurrency,
  picosToNanos,
  priceToMicros,
} from '../../src/cost/money.js';

describe('priceToMicros', () => {
  const exact: [price: number, micros: number][] = [
    [0, 0],
    [0.1, 100_000],
    [0.15, 150_000],
    [0.075, 75_000],
    [0.1875, 187_500],
    [2.5, 2_500_000],
    [1e-6, 1],
    [0.000015, 15],
    [0.123456, 123_456],
    [15, 15_000_000],
    [123456.654321, 123_456_654_321],
    [1_000_000, 1_000_000_000_000],
  ];

  for (const [price, micros] of exact) {
    it(`converts ${price} to exactly ${micros} micro-units`, () => {
      assert.equal(priceToMicros(price), micros);
    });
  }

  it('is exact where multiplying by 1e6 is not', () => {
    assert.notEqual(0.000249 * 1_000_000, 249);
    assert.equal(priceToMicros(0.000249), 249);
    assert.notEqual(0.000123 * 1_000_000, 123);
    assert.equal(priceToMicros(0.000123), 123);
  });

  const rejected: [what: string, price: number][] = [
    ['7 decimals', 0.1234567],
    ['a price below a micro-unit', 1e-7],
    ['exponent form with 8 decimals', 1.5e-7],
    ['float noise', 0.1 + 0.2],
    ['a negative price', -1],
    ['a price above the maximum', 1_000_001],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ];

  for (const [what, price] of rejected) {
    it(`returns undefined for ${what}`, () => {
      assert.equal(priceToMicros(price), undefined);
    });
  }
});

describe('decimalPlaces', () => {
  const cases: [value: number, places: number][] = [
    [0, 0],
    [2500, 0],
    [0.15, 2],
    [1e-6, 6],
    [1e-7, 7],
    [1.25e-7, 9],
    [0.30000000000000004, 17],
  ];

  for (const [value, places] of cases) {
    it(`counts ${places} decimal places in ${value}`, () => {
      assert.equal(decimalPlaces(value), places);
    });
  }
});

describe('picosToNanos', () => {
  const cases: [picos: bigint, nanos: bigint][] = [
    [0n, 0n],
    [499n, 0n],
    [500n, 1n],
    [1499n, 1n],
    [1500n, 2n],
    [1_000_000_000_000_000_000n, 1_000_000_000_000_000n],
  ];

  for (const [picos, nanos] of cases) {
    it(`rounds ${picos} picos half up to ${nanos} nanos`, () => {
      assert.equal(picosToNanos(picos), nanos);
    });
  }
});

describe('formatNanos', () => {
  const cases: [nanos: number, text: string][] = [
    [0, '0'],
    [1, '0.000000001'],
    [3085, '0.000003085'],
    [1_234_567, '0.001234567'],
    [1_000_000_000, '1'],
    [1_500_000_000, '1.5'],
    [1e15, '1000000'],
    [Number.MAX_SAFE_INTEGER, '9007199.254740991'],
    [-1_500_000_000, '-1.5'],
  ];

  for (const [nanos, text] of cases) {
    it(`formats ${nanos} nanos as ${text}`, () => {
      assert.equal(formatNanos(nanos), text);
    });
  }

  it('throws a RangeError when the amount is not whole nano-units', () => {
    assert.throws(() => formatNanos(1.5), RangeError);
    assert.throws(() => formatNanos(2 ** 53), RangeError);
  });
});

describe('nanosToCurrency', () => {
  it('converts nano-units to a float amount of the currency', () => {
    assert.equal(nanosToCurrency(1_500_000_000), 1.5);
    assert.equal(nanosToCurrency(150), 1.5e-7);
    assert.equal(nanosToCurrency(0), 0);
  });
});
