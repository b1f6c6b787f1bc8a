import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { calculateCost, formatCost, UNKNOWN_COST } from '../../src/cost/cost-calculator.js';
import { costAttributionSchema } from '../../src/cost/pricing-schema.js';
import { PricingTable } from '../../src/cost/pricing-table.js';
import { ZERO_USAGE, type TokenUsage } from '../../src/usage/token-usage.js';

const table = new PricingTable(
  costAttributionSchema.parse({
    pricing: [
      {
        model_pattern: 'gpt-4o',
        input_cost_per_million: 2.5,
        cached_input_cost_per_million: 1.25,
        output_cost_per_million: 10,
      },
      {
        model_pattern: 'gpt-4o-mini*',
        input_cost_per_million: 0.15,
        cached_input_cost_per_million: 0.075,
        output_cost_per_million: 0.6,
      },
      {
        model_pattern: 'claude-3-5-sonnet*',
        input_cost_per_million: 3,
        cache_creation_cost_per_million: 3.75,
        cached_input_cost_per_million: 0.3,
        output_cost_per_million: 15,
      },
      { model_pattern: 'o3-mini*', input_cost_per_million: 1.1, output_cost_per_million: 4.4 },
      { model_pattern: 'mistral-*', input_cost_per_million: 2, output_cost_per_million: 6 },
      {
        model_pattern: 'tiny',
        input_cost_per_million: 0.000001,
        output_cost_per_million: 0.000001,
      },
      {
        model_pattern: 'big',
        input_cost_per_million: 999.999999,
        output_cost_per_million: 1000,
      },
      { model_pattern: 'dearest', input_cost_per_million: 1e6, output_cost_per_million: 1e6 },
      {
        model_pattern: 'mistral-large*',
        input_cost_per_million: 2,
        output_cost_per_million: 6,
        currency: 'EUR',
      },
    ],
  }),
);

function usage(counts: Partial<TokenUsage>): TokenUsage {
  const input = counts.input ?? 0;
  const output = counts.output ?? 0;
  return { ...ZERO_USAGE, total: input + output, ...counts };
}

interface Case {
  name: string;
  model: string;
  tokens: Partial<TokenUsage>;
  expected: {
    inputNanos: number;
    cachedInputNanos: number;
    cacheCreationNanos: number;
    outputNanos: number;
    totalNanos: number;
  };
}

describe('calculateCost', () => {
  const cases: Case[] = [
    {
      // gpt-4o, $2.50 / $1.25 cached / $10 per million.
      // uncached input: 1200 - 1000 = 200 × 2_500_000 µ = 500_000_000 pico = 500_000 nano
      // cached input:   1000 × 1_250_000 µ = 1_250_000_000 pico = 1_250_000 nano
      // output:          300 × 10_000_000 µ = 3_000_000_000 pico = 3_000_000 nano
      // total: 4_750_000 nano = $0.00475 (not 1200 × $2.50/M + cached again)
      name: 'OpenAI gpt-4o reads 1000 of 1200 prompt tokens from the cache',
      model: 'gpt-4o',
      tokens: { input: 1200, cachedInput: 1000, output: 300 },
      expected: {
        inputNanos: 500_000,
        cachedInputNanos: 1_250_000,
        cacheCreationNanos: 0,
        outputNanos: 3_000_000,
        totalNanos: 4_750_000,
      },
    },
    {
      // claude-3-5-sonnet, $3 input / $3.75 cache write / $0.30 cache read / $15 output.
      // input 12_050 = 50 uncached + 2_000 written + 10_000 read.
      // uncached:    50 × 3_000_000 µ =   150_000_000 pico =   150_000 nano
      // written:  2_000 × 3_750_000 µ = 7_500_000_000 pico = 7_500_000 nano
      // read:    10_000 ×   300_000 µ = 3_000_000_000 pico = 3_000_000 nano
      // output:     500 × 15_000_000 µ = 7_500_000_000 pico = 7_500_000 nano
      // total: 18_150_000 nano = $0.01815
      name: 'Anthropic writes 2000 tokens to the cache and reads 10000',
      model: 'claude-3-5-sonnet-20241022',
      tokens: { input: 12_050, cacheCreation: 2_000, cachedInput: 10_000, output: 500 },
      expected: {
        inputNanos: 150_000,
        cachedInputNanos: 3_000_000,
        cacheCreationNanos: 7_500_000,
        outputNanos: 7_500_000,
        totalNanos: 18_150_000,
      },
    },
    {
      // o3-mini, $1.10 / $4.40. Reasoning 800 is part of output 1000: charged once.
      // input:    100 × 1_100_000 µ =   110_000_000 pico =   110_000 nano
      // output: 1_000 × 4_400_000 µ = 4_400_000_000 pico = 4_400_000 nano
      // total: 4_510_000 nano (1800 output tokens would have been 8_030_000)
      name: 'reasoning tokens are part of the output',
      model: 'o3-mini-2025-01-31',
      tokens: { input: 100, output: 1_000, reasoning: 800 },
      expected: {
        inputNanos: 110_000,
        cachedInputNanos: 0,
        cacheCreationNanos: 0,
        outputNanos: 4_400_000,
        totalNanos: 4_510_000,
      },
    },
    {
      // 1 × 150_000 µ = 150_000 pico = 150 nano
      name: 'one input token costs $0.15 per million',
      model: 'gpt-4o-mini',
      tokens: { input: 1 },
      expected: {
        inputNanos: 150,
        cachedInputNanos: 0,
        cacheCreationNanos: 0,
        outputNanos: 0,
        totalNanos: 150,
      },
    },
    {
      // gpt-4o-mini, $0.15 / $0.075 cached / $0.60.
      // uncached: 7 × 150_000 = 1_050_000 pico; cached: 3 × 75_000 = 225_000 pico;
      // output: 5 × 600_000 = 3_000_000 pico. Sum 4_275_000 pico = 4275 nano.
      // Components round separately: 1050 + 225 + 3000 = 4275.
      name: 'a few tokens cost whole nano-units',
      model: 'gpt-4o-mini-2024-07-18',
      tokens: { input: 10, cachedInput: 3, output: 5 },
      expected: {
        inputNanos: 1050,
        cachedInputNanos: 225,
        cacheCreationNanos: 0,
        outputNanos: 3000,
        totalNanos: 4275,
      },
    },
    {
      // tiny: 1 µ per million. input 600 × 1 = 600 pico → 1 nano (half up);
      // output 600 × 1 = 600 pico → 1 nano. Total 1200 pico → 1 nano, rounded once:
      // the components (1 + 1) differ from the total by rounding.
      name: 'the total is rounded once from the exact sum',
      model: 'tiny',
      tokens: { input: 600, output: 600 },
      expected: {
        inputNanos: 1,
        cachedInputNanos: 0,
        cacheCreationNanos: 0,
        outputNanos: 1,
        totalNanos: 1,
      },
    },
    {
      // big: $999.999999 / $1000 per million, i.e. 999_999_999 µ and 1_000_000_000 µ.
      // input: 999_999_999 × 999_999_999 = 999_999_998_000_000_001 pico
      //        → 999_999_998_000_000 nano (the trailing .001 rounds down)
      // output: 1_000_000_000 × 1_000_000_000 = 1e18 pico = 1e15 nano ($1,000,000)
      // total: 1_999_999_998_000_000.001 nano → 1_999_999_998_000_000
      name: 'a billion tokens at $1000 per million is exact',
      model: 'big',
      tokens: { input: 999_999_999, output: 1_000_000_000 },
      expected: {
        inputNanos: 999_999_998_000_000,
        cachedInputNanos: 0,
        cacheCreationNanos: 0,
        outputNanos: 1_000_000_000_000_000,
        totalNanos: 1_999_999_998_000_000,
      },
    },
  ];

  for (const { name, model, tokens, expected } of cases) {
    it(`prices exactly when ${name}`, () => {
      const result = calculateCost(usage(tokens), model, table);

      assert.deepEqual(
        {
          inputNanos: result.inputNanos,
          cachedInputNanos: result.cachedInputNanos,
          cacheCreationNanos: result.cacheCreationNanos,
          outputNanos: result.outputNanos,
          totalNanos: result.totalNanos,
        },
        expected,
      );
      assert.equal(result.inconsistent, false);
    });
  }

  it('reports the model, the pattern that priced it and the tokens as given', () => {
    const tokens = usage({ input: 1200, cachedInput: 1000, output: 300 });
    const result = calculateCost(tokens, 'gpt-4o-mini-2024-07-18', table);

    assert.equal(result.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(result.pricedAs, 'gpt-4o-mini*');
    assert.equal(result.matchedBy, 'glob');
    assert.equal(result.currency, 'USD');
    assert.equal(result.tokens, tokens);
  });

  it('prices cached tokens once, at the cached price, when every prompt token is cached', () => {
    // 1000 cached × 1_250_000 µ = 1_250_000 nano; no input-price charge on top.
    const result = calculateCost(usage({ input: 1000, cachedInput: 1000 }), 'gpt-4o', table);

    assert.equal(result.inputNanos, 0);
    assert.equal(result.cachedInputNanos, 1_250_000);
    assert.equal(result.totalNanos, 1_250_000);
  });

  it("uses the entry's own currency when it names one", () => {
    // mistral-large* (literal 13) beats mistral-* (8); 1000 × 2_000_000 µ = 2_000_000 nano.
    const result = calculateCost(usage({ input: 1000 }), 'mistral-large-latest', table);

    assert.equal(result.currency, 'EUR');
    assert.equal(result.totalNanos, 2_000_000);
  });

  it('reports an unknown cost, never $0, when the model is unpriced', () => {
    const result = calculateCost(usage({ input: 1000, output: 10 }), 'llama3', table);

    assert.equal(result.matchedBy, 'unpriced');
    assert.equal(result.pricedAs, undefined);
    assert.equal(result.totalNanos, undefined);
    assert.equal(result.currency, 'USD');
    assert.equal(formatCost(result).total, UNKNOWN_COST);
  });

  it('reports an unknown cost when no model is named and no defaults are set', () => {
    const result = calculateCost(usage({ input: 1 }), undefined, table);

    assert.equal(result.model, undefined);
    assert.equal(result.totalNanos, undefined);
  });

  it('prices an unnamed model at the default prices when they are set', () => {
    const withDefaults = new PricingTable(
      costAttributionSchema.parse({ default_input_cost: 1, default_output_cost: 2 }),
    );
    // 1000 × 1_000_000 µ + 500 × 2_000_000 µ = 1e9 + 1e9 pico = 2_000_000 nano
    const result = calculateCost(usage({ input: 1000, output: 500 }), undefined, withDefaults);

    assert.equal(result.matchedBy, 'default');
    assert.equal(result.pricedAs, 'default');
    assert.equal(result.totalNanos, 2_000_000);
  });

  it('clamps the uncached input to 0 and flags it when cached tokens exceed the input', () => {
    // input 100 but cached 150: 150 × 1_250_000 µ = 187_500 nano, nothing negative.
    const result = calculateCost(usage({ input: 100, cachedInput: 150 }), 'gpt-4o', table);

    assert.equal(result.inputNanos, 0);
    assert.equal(result.cachedInputNanos, 187_500);
    assert.equal(result.totalNanos, 187_500);
    assert.equal(result.inconsistent, true);
  });

  it('prices at least the reasoning tokens and flags it when reasoning exceeds output', () => {
    // output 10 but reasoning 100: 100 × 4_400_000 µ = 440_000 nano.
    const result = calculateCost(usage({ output: 10, reasoning: 100 }), 'o3-mini', table);

    assert.equal(result.outputNanos, 440_000);
    assert.equal(result.inconsistent, true);
  });

  const malformed: [what: string, input: number, billed: number][] = [
    ['negative', -5, 0],
    ['NaN', Number.NaN, 0],
    ['fractional', 2.4, 2],
  ];

  for (const [what, input, billed] of malformed) {
    it(`bills ${billed} input tokens and flags it when the count is ${what}`, () => {
      const result = calculateCost(usage({ input }), 'gpt-4o-mini', table);

      assert.equal(result.totalNanos, billed * 150);
      assert.equal(result.inconsistent, true);
    });
  }

  it('reports an unknown total when the cost passes the safe range', () => {
    // 2^53 tokens × $1,000,000 per million is about 9e15 currency units.
    const huge = usage({ input: Number.MAX_SAFE_INTEGER });
    const result = calculateCost(huge, 'dearest', table);

    assert.equal(result.totalNanos, undefined);
    assert.equal(result.inputNanos, Number.MAX_SAFE_INTEGER);
    assert.equal(result.inconsistent, true);
  });
});

describe('formatCost', () => {
  it('writes each amount as an exact decimal string', () => {
    const tokens = usage({ input: 12_050, cacheCreation: 2000, cachedInput: 10_000, output: 500 });
    const result = calculateCost(tokens, 'claude-3-5-sonnet-20241022', table);

    assert.deepEqual(formatCost(result), {
      currency: 'USD',
      total: '0.01815',
      input: '0.00015',
      cachedInput: '0.003',
      cacheCreation: '0.0075',
      output: '0.0075',
    });
  });

  it('writes unknown for every amount when the model is unpriced', () => {
    const result = calculateCost(usage({ input: 1 }), 'llama3', table);

    assert.deepEqual(formatCost(result), {
      currency: 'USD',
      total: UNKNOWN_COST,
      input: UNKNOWN_COST,
      cachedInput: UNKNOWN_COST,
      cacheCreation: UNKNOWN_COST,
      output: UNKNOWN_COST,
    });
  });
});
