import picomatch from 'picomatch';

import { priceToMicros } from './money.js';
import type { PriceListSection, PricingEntryFile } from './pricing-schema.js';

/** One price list entry, compiled: prices in whole micro-units per million tokens. */
export interface PriceEntry {
  /** The `model_pattern` it came from, or `default` for the section's default prices. */
  readonly modelPattern: string;
  /** Currency code of every price in the entry. */
  readonly currency: string;
  /** Uncached input tokens, in micro-units per million. */
  readonly inputMicros: number;
  /** Input tokens read from the provider's cache, in micro-units per million. */
  readonly cachedInputMicros: number;
  /** Input tokens written to the provider's cache, in micro-units per million. */
  readonly cacheCreationMicros: number;
  /** Output tokens, reasoning included, in micro-units per million. */
  readonly outputMicros: number;
}

/** How a model found its price, or that it found none. */
export type PriceMatch =
  | { readonly entry: PriceEntry; readonly matchedBy: 'exact' | 'glob' | 'default' }
  | { readonly entry: undefined; readonly matchedBy: 'unpriced' };

/** A compiled `model_pattern`. */
export interface CompiledModelPattern {
  /** Whether a model name matches the pattern (case-sensitive). */
  readonly matches: (model: string) => boolean;
  /** True when the pattern has no glob syntax or escapes: it is one model name. */
  readonly exact: boolean;
  /** How many characters of the pattern match only themselves; the more, the more specific. */
  readonly literalLength: number;
}

/** A `model_pattern` ready to match, or why it cannot be used (a message to follow its path). */
export type ModelPatternResult =
  ({ ok: true } & CompiledModelPattern) | { ok: false; message: string };

/** How many models {@link PricingTable.priceFor} remembers before it starts over. */
export const PRICE_CACHE_SIZE = 1000;

/** Model names longer than this are matched every time rather than remembered. */
const MAX_CACHED_MODEL_LENGTH = 256;

/**
 * Model names are not file paths: `*` also matches `/` (`bash`), a leading
 * dot is an ordinary character (`dot`), a backslash always escapes (`windows`
 * off) and an unbalanced bracket is an error rather than a literal.
 */
const GLOB_OPTIONS: picomatch.PicomatchOptions = {
  bash: true,
  dot: true,
  windows: false,
  strictBrackets: true,
};

const EXTGLOB_PREFIXES = new Set(['?', '*', '+', '@', '!']);

const UNPRICED: PriceMatch = Object.freeze({ entry: undefined, matchedBy: 'unpriced' });

interface GlobRule {
  readonly matches: (model: string) => boolean;
  readonly literalLength: number;
  readonly match: PriceMatch;
}

/**
 * Compiles one `model_pattern` the way the pricing table matches it. A
 * pattern is exact when it has no glob syntax and no escapes: it then matches
 * only the identical model name.
 */
export function compileModelPattern(pattern: string): ModelPatternResult {
  if (pattern.trim() === '') return { ok: false, message: 'expected a model name or glob' };
  if (pattern.trim() !== pattern) {
    return { ok: false, message: 'has leading or trailing spaces, which no model name has' };
  }

  const scanned = picomatch.scan(pattern);
  if (scanned.negated) {
    return { ok: false, message: 'a leading ! (negation) is not supported; list what to price' };
  }

  try {
    const regex = picomatch.makeRe(pattern, GLOB_OPTIONS);
    // picomatch gives up on some patterns silently, with a regex that matches nothing.
    if (regex.source === '$^') {
      return { ok: false, message: 'is not a valid glob (check escapes and brackets)' };
    }

    const exact = !scanned.isGlob && !pattern.includes('\\');
    const matches = (model: string) => regex.test(model);
    return { ok: true, matches, exact, literalLength: literalLength(pattern) };
  } catch (error) {
    return { ok: false, message: `is not a valid glob: ${(error as Error).message}` };
  }
}

/**
 * The price list, compiled once from a validated `cost_attribution` section
 * and frozen. {@link PricingTable.priceFor} picks a model's entry:
 *
 * 1. An exact pattern (no glob syntax) equal to the model wins over any glob.
 * 2. Otherwise, among the globs that match, the one with the longest literal
 *    part wins: the count of characters that are not glob syntax (`*`, `?`,
 *    escapes, and anything inside `[...]`, `{...}` or `(...)` groups such as
 *    `+(...)`). So `gpt-4o-mini*` (11) beats `gpt-4*` (5) beats `*` (0).
 * 3. Ties go to the entry that comes first in config.
 * 4. No match: the default prices, when both are set; else `unpriced`.
 *
 * Matching is case-sensitive. `*` matches any characters, `/` included, so
 * `*gpt-4o*` matches `openrouter/openai/gpt-4o`; `?` and `[...]` match one
 * character other than `/`.
 */
export class PricingTable {
  /** The section's currency: that of the default prices and of unpriced results. */
  readonly currency: string;

  readonly #exact: ReadonlyMap<string, PriceMatch>;
  readonly #globs: readonly GlobRule[];
  readonly #fallback: PriceMatch;
  readonly #cache = new Map<string, PriceMatch>();

  /**
   * @throws RangeError when a pattern or price did not pass
   *   `costAttributionSchema` (a bug in the caller).
   */
  constructor(section: PriceListSection) {
    this.currency = section.currency;

    const exact = new Map<string, PriceMatch>();
    const globs: GlobRule[] = [];
    for (const file of section.pricing) {
      const entry = toPriceEntry(file, section.currency);
      const pattern = compileOrThrow(file.model_pattern);

      if (!pattern.exact) {
        const match = Object.freeze({ entry, matchedBy: 'glob' as const });
        globs.push({ matches: pattern.matches, literalLength: pattern.literalLength, match });
      } else if (!exact.has(file.model_pattern)) {
        exact.set(file.model_pattern, Object.freeze({ entry, matchedBy: 'exact' }));
      }
    }

    // A stable sort keeps config order among globs with equal literal parts.
    this.#globs = globs.sort((a, b) => b.literalLength - a.literalLength);
    this.#exact = exact;
    this.#fallback = defaultMatch(section);
    Object.freeze(this);
  }

  /** The entry that prices `model` and how it was chosen; see the class comment for the rule. */
  priceFor(model: string | undefined): PriceMatch {
    if (model === undefined) return this.#fallback;

    const cached = this.#cache.get(model);
    if (cached) return cached;

    const match = this.#lookUp(model);
    this.#remember(model, match);
    return match;
  }

  #lookUp(model: string): PriceMatch {
    const exact = this.#exact.get(model);
    if (exact) return exact;

    const glob = this.#globs.find((rule) => rule.matches(model));
    return glob ? glob.match : this.#fallback;
  }

  // Model names come from clients: the cache is bounded in entries and in key length.
  #remember(model: string, match: PriceMatch): void {
    if (model.length > MAX_CACHED_MODEL_LENGTH) return;
    if (this.#cache.size >= PRICE_CACHE_SIZE) this.#cache.clear();

    this.#cache.set(model, match);
  }
}

function compileOrThrow(pattern: string) {
  const compiled = compileModelPattern(pattern);
  if (!compiled.ok) throw new RangeError(`model_pattern "${pattern}" ${compiled.message}`);

  return compiled;
}

function toPriceEntry(file: PricingEntryFile, sectionCurrency: string): PriceEntry {
  const input = microsOrThrow(file.input_cost_per_million);

  return Object.freeze({
    modelPattern: file.model_pattern,
    currency: file.currency ?? sectionCurrency,
    inputMicros: input,
    cachedInputMicros: optionalMicros(file.cached_input_cost_per_million, input),
    cacheCreationMicros: optionalMicros(file.cache_creation_cost_per_million, input),
    outputMicros: microsOrThrow(file.output_cost_per_million),
  });
}

function defaultMatch(section: PriceListSection): PriceMatch {
  const input = section.default_input_cost;
  const output = section.default_output_cost;
  if (input === null || output === null) return UNPRICED;

  const inputMicros = microsOrThrow(input);
  const entry: PriceEntry = Object.freeze({
    modelPattern: 'default',
    currency: section.currency,
    inputMicros,
    cachedInputMicros: inputMicros,
    cacheCreationMicros: inputMicros,
    outputMicros: microsOrThrow(output),
  });
  return Object.freeze({ entry, matchedBy: 'default' });
}

function optionalMicros(price: number | undefined, fallback: number): number {
  return price === undefined ? fallback : microsOrThrow(price);
}

function microsOrThrow(price: number): number {
  const micros = priceToMicros(price);
  if (micros === undefined) throw new RangeError(`price ${price} did not pass the schema`);

  return micros;
}

/**
 * Counts the characters of `pattern` that match only themselves: an escaped
 * character counts once; `*`, `?` and whole `[...]`, `{...}` and `(...)`
 * groups (with an extglob prefix such as `+(`) count nothing.
 */
function literalLength(pattern: string): number {
  let count = 0;

  for (let index = 0; index < pattern.length;) {
    const token = tokenAt(pattern, index);
    if (token.literal) count += 1;
    index = token.end;
  }
  return count;
}

/** The glob token at `index`: where it ends, and whether it is one literal character. */
function tokenAt(pattern: string, index: number): { end: number; literal: boolean } {
  const char = pattern[index] ?? '';

  if (char === '\\') return { end: index + 2, literal: true };
  if (EXTGLOB_PREFIXES.has(char) && pattern[index + 1] === '(') {
    return { end: groupEnd(pattern, index + 1), literal: false };
  }
  if (char === '*' || char === '?') return { end: index + 1, literal: false };
  if (char === '[') return { end: bracketEnd(pattern, index), literal: false };
  if (char === '{' || char === '(') return { end: groupEnd(pattern, index), literal: false };
  return { end: index + 1, literal: true };
}

/** Index just past the `{...}` or `(...)` group opening at `start`, nested groups included. */
function groupEnd(pattern: string, start: number): number {
  const open = pattern[start];
  const close = open === '{' ? '}' : ')';
  let depth = 0;

  for (let index = start; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') index += 1;
    else if (char === open) depth += 1;
    else if (char === close && --depth === 0) return index + 1;
  }
  return pattern.length;
}

/** Index just past the `[...]` class at `start`; a `]` right after `[` or `[!` is a member. */
function bracketEnd(pattern: string, start: number): number {
  let index = start + 1;
  if (pattern[index] === '!' || pattern[index] === '^') index += 1;
  if (pattern[index] === ']') index += 1;

  for (; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') index += 1;
    else if (char === '[' && pattern[index + 1] === ':') index = posixClassEnd(pattern, index);
    else if (char === ']') return index + 1;
  }
  return pattern.length;
}

/** Index of the `]` that closes a `[:name:]` class inside brackets, or the end of `pattern`. */
function posixClassEnd(pattern: string, start: number): number {
  const close = pattern.indexOf(':]', start + 2);

  return close === -1 ? pattern.length : close + 1;
}
