import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { z } from 'zod';

import { costAttributionSchema } from '../../src/cost/pricing-schema.js';

const GOOD_ENTRY = {
  model_pattern: 'gpt-4o-mini*',
  input_cost_per_million: 0.15,
  output_cost_per_million: 0.6,
};

/** Each problem as `path: message`, the way an operator reads it. */
function problemsOf(section: unknown): string[] {
  const result = costAttributionSchema.safeParse(section);
  assert.equal(result.success, false, 'expected the section to be rejected');

  return (result.error?.issues ?? []).map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    return `${[...issue.path, ...keys].join('.')}: ${issue.message}`;
  });
}

function withEntry(fields: Record<string, unknown>): unknown {
  return { pricing: [{ ...GOOD_ENTRY, ...fields }] };
}

describe('costAttributionSchema', () => {
  it('fills every default from an empty section', () => {
    assert.deepEqual(costAttributionSchema.parse({}), {
      enabled: true,
      currency: 'USD',
      default_input_cost: null,
      default_output_cost: null,
      pricing: [],
    });
  });

  it('fills the defaults when the section is missing from the file', () => {
    const file = z.strictObject({ cost_attribution: costAttributionSchema.prefault({}) });

    assert.equal(file.parse({}).cost_attribution.currency, 'USD');
  });

  it('accepts the documented example', () => {
    const section = costAttributionSchema.parse({
      enabled: true,
      currency: 'USD',
      default_input_cost: 1.0,
      default_output_cost: 2.0,
      pricing: [
        {
          ...GOOD_ENTRY,
          cached_input_cost_per_million: 0.075,
          cache_creation_cost_per_million: 0.1875,
          currency: 'USD',
        },
      ],
    });

    assert.equal(section.pricing[0]?.cache_creation_cost_per_million, 0.1875);
    assert.equal(section.default_output_cost, 2);
  });

  it('accepts prices with 6 decimals, 0 and the maximum', () => {
    for (const price of [0, 0.000001, 0.123456, 123456.654321, 1_000_000]) {
      const result = costAttributionSchema.safeParse(withEntry({ input_cost_per_million: price }));
      assert.ok(result.success, `expected ${price} to be accepted`);
    }
  });

  const rejected: { name: string; section: unknown; problem: RegExp }[] = [
    {
      name: 'a glob with an unclosed bracket',
      section: withEntry({ model_pattern: 'gpt-[4' }),
      problem: /^pricing\.0\.model_pattern: is not a valid glob: Missing closing: "\]"/,
    },
    {
      name: 'an empty pattern',
      section: withEntry({ model_pattern: '' }),
      problem: /^pricing\.0\.model_pattern: expected a model name or glob$/,
    },
    {
      name: 'a negated pattern',
      section: withEntry({ model_pattern: '!gpt-4*' }),
      problem: /^pricing\.0\.model_pattern: .*negation/,
    },
    {
      name: 'a pattern that is not a string',
      section: withEntry({ model_pattern: 4 }),
      problem: /^pricing\.0\.model_pattern: expected a model name or glob, e.g. gpt-4o-mini\*$/,
    },
    {
      name: 'a price with 7 decimals',
      section: withEntry({ input_cost_per_million: 0.0000001 }),
      problem: /^pricing\.0\.input_cost_per_million: expected at most 6 decimal places/,
    },
    {
      name: 'a cached price with 7 decimals',
      section: withEntry({ cached_input_cost_per_million: 0.1234567 }),
      problem: /^pricing\.0\.cached_input_cost_per_million: expected at most 6 decimal places/,
    },
    {
      name: 'a negative price',
      section: withEntry({ output_cost_per_million: -1 }),
      problem: /^pricing\.0\.output_cost_per_million: must be at least 0$/,
    },
    {
      name: 'a price above the maximum',
      section: withEntry({ output_cost_per_million: 1_000_001 }),
      problem: /^pricing\.0\.output_cost_per_million: must be at most 1000000$/,
    },
    {
      name: 'a price written as a string',
      section: withEntry({ input_cost_per_million: '0.15' }),
      problem: /^pricing\.0\.input_cost_per_million: expected a price per million tokens/,
    },
    {
      name: 'a missing output price',
      section: { pricing: [{ model_pattern: 'x', input_cost_per_million: 1 }] },
      problem: /^pricing\.0\.output_cost_per_million: expected a price per million tokens/,
    },
    {
      name: 'an unknown key in an entry',
      section: withEntry({ input_cost: 1 }),
      problem: /^pricing\.0\.input_cost: /,
    },
    {
      name: 'an unknown key in the section',
      section: { default_cost: 1 },
      problem: /^default_cost: /,
    },
    {
      name: 'a default price with 7 decimals',
      section: { default_input_cost: 0.0000001, default_output_cost: 1 },
      problem: /^default_input_cost: expected at most 6 decimal places/,
    },
    {
      name: 'a lower-case currency',
      section: { currency: 'usd' },
      problem: /^currency: expected a 3-letter upper-case currency code/,
    },
    {
      name: 'a currency code of the wrong length in an entry',
      section: withEntry({ currency: 'EURO' }),
      problem: /^pricing\.0\.currency: expected a 3-letter upper-case currency code/,
    },
    {
      name: 'only the default input price',
      section: { default_input_cost: 1 },
      problem: /^default_output_cost: set default_input_cost and default_output_cost together/,
    },
    {
      name: 'only the default output price',
      section: { default_output_cost: 2 },
      problem: /^default_input_cost: set default_input_cost and default_output_cost together/,
    },
    {
      name: 'a repeated pattern',
      section: { pricing: [GOOD_ENTRY, { ...GOOD_ENTRY, input_cost_per_million: 1 }] },
      problem: /^pricing\.1\.model_pattern: repeats pricing\.0\.model_pattern/,
    },
    {
      name: 'enabled that is not a boolean',
      section: { enabled: 'yes' },
      problem: /^enabled: expected true or false$/,
    },
  ];

  for (const { name, section, problem } of rejected) {
    it(`reports the path and reason when given ${name}`, () => {
      const problems = problemsOf(section);

      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', problem);
    });
  }

  it('reports every bad entry at once', () => {
    const problems = problemsOf({
      pricing: [
        { ...GOOD_ENTRY, model_pattern: 'a-[' },
        GOOD_ENTRY,
        { ...GOOD_ENTRY, model_pattern: 'b-*', output_cost_per_million: 0.00000015 },
      ],
    });

    assert.deepEqual(
      problems.map((problem) => problem.slice(0, problem.indexOf(':'))),
      ['pricing.0.model_pattern', 'pricing.2.output_cost_per_million'],
    );
  });
});
