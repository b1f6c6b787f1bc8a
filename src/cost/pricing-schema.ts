import { z } from 'zod';

import { decimalPlaces, MAX_PRICE, MAX_PRICE_DECIMALS } from './money.js';
import { compileModelPattern } from './pricing-table.js';

/** The most entries a price list may have. */
export const MAX_PRICING_ENTRIES = 10_000;

const currencyCode = z
  .string({ error: 'expected a 3-letter currency code such as USD' })
  .regex(/^[A-Z]{3}$/, 'expected a 3-letter upper-case currency code such as USD or EUR');

/**
 * A price per million tokens: a number from 0 to {@link MAX_PRICE} with at
 * most {@link MAX_PRICE_DECIMALS} decimals, so that it is exactly a whole
 * number of micro-units per million tokens.
 */
const price = z
  .number({ error: 'expected a price per million tokens, e.g. 0.15' })
  .min(0, 'must be at least 0')
  .max(MAX_PRICE, `must be at most ${MAX_PRICE}`)
  .refine((value) => decimalPlaces(value) <= MAX_PRICE_DECIMALS, {
    message: `expected at most ${MAX_PRICE_DECIMALS} decimal places (prices are kept exactly)`,
  });

const modelPattern = z
  .string({ error: 'expected a model name or glob, e.g. gpt-4o-mini*' })
  .superRefine((pattern, context) => {
    const compiled = compileModelPattern(pattern);
    if (!compiled.ok) context.addIssue({ code: 'custom', message: compiled.message });
  });

const pricingEntrySchema = z.strictObject({
  /**
   * The model names this entry prices: an exact name (`gpt-4o`) or a
   * picomatch glob (`gpt-4o-mini*`, `claude-3-[57]-*`, `{gpt,o}-*`). Matching
   * is case-sensitive and `*` also matches `/`. When several entries match,
   * an exact name wins, then the glob with the longest literal part, then
   * the entry listed first.
   */
  model_pattern: modelPattern,
  /** Price of a million uncached input tokens. */
  input_cost_per_million: price,
  /** Price of a million output tokens, reasoning tokens included. */
  output_cost_per_million: price,
  /** Price of a million input tokens read from the provider's cache; default: the input price. */
  cached_input_cost_per_million: price.optional(),
  /** Price of a million input tokens written to the provider's cache; default: the input price. */
  cache_creation_cost_per_million: price.optional(),
  /** Currency of this entry's prices; default: the section's `currency`. */
  currency: currencyCode.optional(),
});

/**
 * The keys of a price list: the global `cost_attribution` section without
 * `enabled`, and a namespace's or service's `cost_attribution` (without
 * `export`). Check the whole with {@link checkPriceList}.
 *
 * A model that no pattern matches is priced at `default_input_cost` and
 * `default_output_cost`. Both default to `null`, meaning "unpriced": such a
 * request's cost is reported as unknown and counted, never as $0, so a
 * missing price list entry shows up instead of hiding in a zero.
 */
export const priceListFields = {
  /** Currency of the default prices and of entries that name none. */
  currency: currencyCode.default('USD'),
  /**
   * Price of a million input tokens for models no pattern matches; `null`
   * (the default) leaves them unpriced. Set together with `default_output_cost`.
   */
  default_input_cost: price.nullable().default(null),
  /**
   * Price of a million output tokens for models no pattern matches; `null`
   * (the default) leaves them unpriced. Set together with `default_input_cost`.
   */
  default_output_cost: price.nullable().default(null),
  /** The price list, matched against each request's model name. */
  pricing: z
    .array(pricingEntrySchema)
    .max(MAX_PRICING_ENTRIES, `expected at most ${MAX_PRICING_ENTRIES} entries`)
    .default([]),
};

/**
 * The `cost_attribution` section: how each request's token usage is priced.
 * Plug it into the file schema as `costAttributionSchema.prefault({})`.
 */
export const costAttributionSchema = z
  .strictObject({
    /** Turns cost attribution on or off; the section is validated either way. */
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
    ...priceListFields,
  })
  .superRefine(checkPriceList);

/** Checks across a price list's fields: default prices set together, no repeated pattern. */
export function checkPriceList(section: PriceListSection, context: z.RefinementCtx): void {
  const problems = [...defaultPriceProblems(section), ...duplicatePatternProblems(section.pricing)];
  for (const { message, path } of problems) context.addIssue({ code: 'custom', message, path });
}

/** The validated `cost_attribution` section, with defaults filled in. */
export type CostAttributionSection = z.output<typeof costAttributionSchema>;

/** A validated price list, as {@link PricingTable} compiles it. */
export type PriceListSection = Omit<CostAttributionSection, 'enabled'>;

/** One validated `pricing` entry, as written in the file. */
export type PricingEntryFile = z.output<typeof pricingEntrySchema>;

/** A problem found across fields, located by its path inside the section. */
interface SectionProblem {
  message: string;
  path: (string | number)[];
}

function defaultPriceProblems(section: PriceListSection): SectionProblem[] {
  const input = section.default_input_cost;
  const output = section.default_output_cost;
  if ((input === null) === (output === null)) return [];

  const missing = input === null ? 'default_input_cost' : 'default_output_cost';
  const message = 'set default_input_cost and default_output_cost together, or neither';
  return [{ message, path: [missing] }];
}

function duplicatePatternProblems(pricing: readonly PricingEntryFile[]): SectionProblem[] {
  const firstIndex = new Map<string, number>();
  const problems: SectionProblem[] = [];

  pricing.forEach((entry, index) => {
    const first = firstIndex.get(entry.model_pattern);
    if (first === undefined) {
      firstIndex.set(entry.model_pattern, index);
      return;
    }

    const message = `repeats pricing.${first}.model_pattern, which always wins; remove one`;
    problems.push({ message, path: ['pricing', index, 'model_pattern'] });
  });
  return problems;
}
