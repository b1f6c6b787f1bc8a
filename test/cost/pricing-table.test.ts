import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { costAttributionSchema } from '../../src/cost/pricing-schema.js';
import {
  compileModelPattern,
  PRICE_CACHE_SIZE,
  PricingTable,
  type PriceMatch,
} from '../../src/cost/pricing-table.js';

/** A table from a section as written in YAML; every listed pattern costs 1/M input. */
function tableOf(patterns: string[], defaults?: { input: number; output: number }): PricingTable {
  const section = costAttributionSchema.parse({
    default_input_cost: defaults?.input ?? null,
    default_output_cost: defaults?.output ?? null,
    pricing: patterns.map((pattern) => ({
      model_pattern: pattern,
      input_cost_per_million: 1,
      output_cost_per_million: 2,
    })),
  });
  return new PricingTable(section);
}

function describeMatch(match: PriceMatch): string {
  return match.entry ? `${match.matchedBy}:${match.entry.modelPattern}` : match.matchedBy;
}

describe('PricingTable.priceFor', () => {
  const cases: { name: string; patterns: string[]; model: string; expected: string }[] = [
    {
      name: 'an exact name beats a glob listed before it',
      patterns: ['gpt-4o*', 'gpt-4o'],
      model: 'gpt-4o',
      expected: 'exact:gpt-4o',
    },
    {
      name: 'an exact name beats a glob with a longer literal part',
      patterns: ['gpt-4o-mini-2024-07-18*', 'gpt-4o-mini'],
      model: 'gpt-4o-mini',
      expected: 'exact:gpt-4o-mini',
    },
    {
      name: 'gpt-4o-mini* beats gpt-4*, gpt-* and * for a dated mini',
      patterns: ['*', 'gpt-*', 'gpt-4*', 'gpt-4o-mini*'],
      model: 'gpt-4o-mini-2024-07-18',
      expected: 'glob:gpt-4o-mini*',
    },
    {
      name: 'gpt-4* beats gpt-* and * for gpt-4-turbo',
      patterns: ['*', 'gpt-*', 'gpt-4*', 'gpt-4o-mini*'],
      model: 'gpt-4-turbo',
      expected: 'glob:gpt-4*',
    },
    {
      name: 'gpt-* beats * for gpt-3.5-turbo',
      patterns: ['*', 'gpt-*', 'gpt-4*', 'gpt-4o-mini*'],
      model: 'gpt-3.5-turbo',
      expected: 'glob:gpt-*',
    },
    {
      name: '* catches what nothing else matches',
      patterns: ['*', 'gpt-*', 'gpt-4*', 'gpt-4o-mini*'],
      model: 'claude-3-5-haiku',
      expected: 'glob:*',
    },
    {
      name: 'the earlier entry wins when literal parts tie (first order)',
      patterns: ['gpt*', '*-4o'],
      model: 'gpt-4o',
      expected: 'glob:gpt*',
    },
    {
      name: 'the earlier entry wins when literal parts tie (reversed order)',
      patterns: ['*-4o', 'gpt*'],
      model: 'gpt-4o',
      expected: 'glob:*-4o',
    },
    {
      name: 'a character class matches one of its characters',
      patterns: ['claude-3-[57]-sonnet*'],
      model: 'claude-3-5-sonnet-20240620',
      expected: 'glob:claude-3-[57]-sonnet*',
    },
    {
      name: 'a character class rejects other characters',
      patterns: ['claude-3-[57]-sonnet*'],
      model: 'claude-3-6-sonnet',
      expected: 'unpriced',
    },
    {
      name: 'a brace list matches each alternative',
      patterns: ['{gpt,o}-4*'],
      model: 'o-4-mini',
      expected: 'glob:{gpt,o}-4*',
    },
    {
      name: 'text inside braces does not count as literal part',
      patterns: ['{gpt,o}-4*', 'gpt-*'],
      model: 'gpt-4',
      expected: 'glob:gpt-*',
    },
    {
      name: 'text inside a character class does not count as literal part',
      patterns: ['claude-[0-9][0-9][0-9]*', 'claude-3*'],
      model: 'claude-345',
      expected: 'glob:claude-3*',
    },
    {
      name: 'an extglob group matches and does not count as literal part',
      patterns: ['gpt-4o+(-mini)', 'gpt-4*'],
      model: 'gpt-4o-mini',
      expected: 'glob:gpt-4o+(-mini)',
    },
    {
      name: '* also matches slashes in provider-prefixed names',
      patterns: ['*gpt-4o*'],
      model: 'openrouter/openai/gpt-4o',
      expected: 'glob:*gpt-4o*',
    },
    {
      name: '? matches one character other than /',
      patterns: ['openai?gpt-4o'],
      model: 'openai/gpt-4o',
      expected: 'unpriced',
    },
    {
      name: 'an escaped * matches only a literal star',
      patterns: ['gpt-\\*'],
      model: 'gpt-*',
      expected: 'glob:gpt-\\*',
    },
    {
      name: 'an escaped * does not match other text',
      patterns: ['gpt-\\*'],
      model: 'gpt-4',
      expected: 'unpriced',
    },
    {
      name: 'matching is case-sensitive',
      patterns: ['gpt-4o*', 'gpt-4o'],
      model: 'GPT-4o',
      expected: 'unpriced',
    },
    {
      name: 'nothing matches and no defaults are set',
      patterns: ['gpt-*'],
      model: 'llama3',
      expected: 'unpriced',
    },
  ];

  for (const { name, patterns, model, expected } of cases) {
    it(`picks ${expected} when ${name}`, () => {
      assert.equal(describeMatch(tableOf(patterns).priceFor(model)), expected);
    });
  }

  it('falls back to the default prices when no pattern matches', () => {
    const table = tableOf(['gpt-*'], { input: 1.5, output: 3 });
    const match = table.priceFor('llama3');

    assert.equal(match.matchedBy, 'default');
    assert.equal(match.entry?.modelPattern, 'default');
    assert.equal(match.entry?.inputMicros, 1_500_000);
    assert.equal(match.entry?.cachedInputMicros, 1_500_000);
    assert.equal(match.entry?.cacheCreationMicros, 1_500_000);
    assert.equal(match.entry?.outputMicros, 3_000_000);
  });

  it('uses the default prices, or none, when the model is undefined', () => {
    assert.equal(
      describeMatch(tableOf(['*'], { input: 1, output: 2 }).priceFor(undefined)),
      'default:default',
    );
    assert.equal(describeMatch(tableOf(['*']).priceFor(undefined)), 'unpriced');
  });

  it('returns the same answer from its cache on repeated look-ups', () => {
    const table = tableOf(['gpt-4*', 'gpt-4o-mini*']);

    const first = table.priceFor('gpt-4o-mini');
    assert.equal(table.priceFor('gpt-4o-mini'), first);
    assert.equal(describeMatch(first), 'glob:gpt-4o-mini*');
  });

  it('keeps answering correctly when more models than the cache holds are looked up', () => {
    const table = tableOf(['even-*', 'odd-*']);

    for (let round = 0; round < 2; round += 1) {
      for (let index = 0; index < PRICE_CACHE_SIZE * 2 + 1; index += 1) {
        const kind = index % 2 === 0 ? 'even' : 'odd';
        assert.equal(describeMatch(table.priceFor(`${kind}-${index}`)), `glob:${kind}-*`);
      }
    }
  });

  it('matches very long model names without caching them', () => {
    const table = tableOf(['gpt-*']);
    const model = `gpt-${'x'.repeat(10_000)}`;

    assert.equal(describeMatch(table.priceFor(model)), 'glob:gpt-*');
    assert.equal(describeMatch(table.priceFor(model)), 'glob:gpt-*');
  });
});

describe('PricingTable', () => {
  it('compiles prices to exact micro-units and fills the optional ones', () => {
    const table = new PricingTable(
      costAttributionSchema.parse({
        currency: 'EUR',
        pricing: [
          {
            model_pattern: 'gpt-4o-mini*',
            input_cost_per_million: 0.15,
            output_cost_per_million: 0.6,
            cached_input_cost_per_million: 0.075,
          },
          {
            model_pattern: 'claude-*',
            input_cost_per_million: 3,
            output_cost_per_million: 15,
            cache_creation_cost_per_million: 3.75,
            currency: 'USD',
          },
        ],
      }),
    );

    assert.deepEqual(table.priceFor('gpt-4o-mini').entry, {
      modelPattern: 'gpt-4o-mini*',
      currency: 'EUR',
      inputMicros: 150_000,
      cachedInputMicros: 75_000,
      cacheCreationMicros: 150_000,
      outputMicros: 600_000,
    });
    assert.deepEqual(table.priceFor('claude-3').entry, {
      modelPattern: 'claude-*',
      currency: 'USD',
      inputMicros: 3_000_000,
      cachedInputMicros: 3_000_000,
      cacheCreationMicros: 3_750_000,
      outputMicros: 15_000_000,
    });
    assert.equal(table.currency, 'EUR');
  });

  it('is frozen, and so are its entries', () => {
    const table = tableOf(['gpt-*']);

    assert.ok(Object.isFrozen(table));
    assert.ok(Object.isFrozen(table.priceFor('gpt-4').entry));
    assert.ok(Object.isFrozen(table.priceFor('gpt-4')));
  });

  it('throws a RangeError when given a section that skipped the schema', () => {
    const entry = {
      model_pattern: 'gpt-[4',
      input_cost_per_million: 1,
      output_cost_per_million: 1,
    };
    const bad = { ...costAttributionSchema.parse({}), pricing: [entry] };

    assert.throws(() => new PricingTable(bad), RangeError);
  });
});

describe('compileModelPattern', () => {
  const cases: [pattern: string, exact: boolean, literalLength: number][] = [
    ['gpt-4o', true, 6],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', true, 41],
    ['gpt-4o-mini*', false, 11],
    ['gpt-4*', false, 5],
    ['*', false, 0],
    ['gpt-4?', false, 5],
    ['gpt-\\*', false, 5],
    ['claude-3-[57]-sonnet*', false, 16],
    ['claude-[[:digit:]]*', false, 7],
    ['{gpt,o}-4*', false, 2],
    ['gpt-4o+(-mini)', false, 6],
    ['a}b', true, 3],
  ];

  for (const [pattern, exact, literalLength] of cases) {
    it(`counts ${literalLength} literal characters in ${pattern}`, () => {
      const compiled = compileModelPattern(pattern);

      assert.ok(compiled.ok);
      assert.equal(compiled.exact, exact);
      assert.equal(compiled.literalLength, literalLength);
    });
  }

  const invalid: [pattern: string, message: RegExp][] = [
    ['', /expected a model name or glob/],
    ['   ', /expected a model name or glob/],
    [' gpt-4', /leading or trailing spaces/],
    ['gpt-[4', /not a valid glob: Missing closing: "\]"/],
    ['gpt-{4', /not a valid glob: Missing closing: "\}"/],
    ['gpt-4)', /not a valid glob: Missing opening: "\("/],
    ['gpt-4\\', /not a valid glob/],
    ['!gpt-4*', /negation/],
  ];

  for (const [pattern, message] of invalid) {
    it(`rejects ${JSON.stringify(pattern)} with a reason`, () => {
      const compiled = compileModelPattern(pattern);

      assert.equal(compiled.ok, false);
      assert.match(compiled.ok ? '' : compiled.message, message);
    });
  }
});
