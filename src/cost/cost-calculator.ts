import type { TokenUsage } from '../usage/token-usage.js';
import { formatNanos, MAX_SAFE_NANOS, picosToNanos } from './money.js';
import type { PriceEntry, PricingTable } from './pricing-table.js';

/**
 * What one request cost. Amounts are whole nano-units (1e-9) of `currency`.
 *
 * `totalNanos` is the exact sum in pico-units rounded once, half up. Each
 * component is rounded on its own for display, so the components may add up
 * to a value up to 2 nano-units away from the total; the total is the figure
 * to bill and count.
 */
export interface CostResult {
  /** The model the request named, if any. */
  readonly model: string | undefined;
  /** The `model_pattern` that priced it, `default`, or `undefined` when unpriced. */
  readonly pricedAs: string | undefined;
  /** How the price was found; see `PricingTable`. */
  readonly matchedBy: 'exact' | 'glob' | 'default' | 'unpriced';
  /** Currency of every amount here. */
  readonly currency: string;
  /** The usage as reported, unchanged. */
  readonly tokens: TokenUsage;
  /** Uncached input at the input price; 0 when unpriced. */
  readonly inputNanos: number;
  /** Cached input at the cached price, and at no other price; 0 when unpriced. */
  readonly cachedInputNanos: number;
  /** Cache writes at the cache-creation price; 0 when unpriced. */
  readonly cacheCreationNanos: number;
  /** All output, reasoning included, at the output price; 0 when unpriced. */
  readonly outputNanos: number;
  /**
   * The whole cost, or `undefined` when it is unknown: the model is unpriced,
   * or the total passes {@link MAX_SAFE_NANOS}. Never a $0 stand-in.
   */
  readonly totalNanos: number | undefined;
  /**
   * The counts did not add up and were repaired before pricing: parts larger
   * than their whole (cached + cache writes > input, reasoning > output; the
   * parts are believed), counts that are not whole non-negative numbers, or a
   * total past {@link MAX_SAFE_NANOS}.
   */
  readonly inconsistent: boolean;
}

/** A {@link CostResult}'s amounts as exact decimal strings, for metadata and logs. */
export interface FormattedCost {
  /** Currency code of every amount. */
  readonly currency: string;
  /** The whole cost, e.g. `0.000003085`, or {@link UNKNOWN_COST}. */
  readonly total: string;
  /** Uncached input, or {@link UNKNOWN_COST}. */
  readonly input: string;
  /** Cached input, or {@link UNKNOWN_COST}. */
  readonly cachedInput: string;
  /** Cache writes, or {@link UNKNOWN_COST}. */
  readonly cacheCreation: string;
  /** Output, or {@link UNKNOWN_COST}. */
  readonly output: string;
}

/** What {@link formatCost} writes for an amount that is not known. */
export const UNKNOWN_COST = 'unknown';

interface BillableTokens {
  uncachedInput: number;
  cachedInput: number;
  cacheCreation: number;
  output: number;
  inconsistent: boolean;
}

/**
 * Prices one request's usage with the entry `table` picks for `model`. Each
 * token is priced once: cached and cache-write tokens at their own prices
 * and not also as input, reasoning tokens as output and not again.
 */
export function calculateCost(
  usage: TokenUsage,
  model: string | undefined,
  table: PricingTable,
): CostResult {
  const match = table.priceFor(model);
  const tokens = billableTokens(usage);
  if (!match.entry) {
    return {
      ...zeroAmounts(model, table.currency, usage, tokens.inconsistent),
      matchedBy: 'unpriced',
    };
  }

  return priceTokens(tokens, match.entry, match.matchedBy, model, usage);
}

/** The amounts of `result` as exact decimal strings; every amount is unknown when unpriced. */
export function formatCost(result: CostResult): FormattedCost {
  const known = result.matchedBy !== 'unpriced';
  const show = (nanos: number | undefined) =>
    known && nanos !== undefined ? formatNanos(nanos) : UNKNOWN_COST;

  return {
    currency: result.currency,
    total: show(result.totalNanos),
    input: show(result.inputNanos),
    cachedInput: show(result.cachedInputNanos),
    cacheCreation: show(result.cacheCreationNanos),
    output: show(result.outputNanos),
  };
}

function priceTokens(
  tokens: BillableTokens,
  entry: PriceEntry,
  matchedBy: 'exact' | 'glob' | 'default',
  model: string | undefined,
  usage: TokenUsage,
): CostResult {
  const input = picos(tokens.uncachedInput, entry.inputMicros);
  const cached = picos(tokens.cachedInput, entry.cachedInputMicros);
  const creation = picos(tokens.cacheCreation, entry.cacheCreationMicros);
  const output = picos(tokens.output, entry.outputMicros);

  const total = picosToNanos(input + cached + creation + output);
  const overflow = total > BigInt(MAX_SAFE_NANOS);

  return {
    model,
    pricedAs: entry.modelPattern,
    matchedBy,
    currency: entry.currency,
    tokens: usage,
    inputNanos: displayNanos(input),
    cachedInputNanos: displayNanos(cached),
    cacheCreationNanos: displayNanos(creation),
    outputNanos: displayNanos(output),
    totalNanos: overflow ? undefined : Number(total),
    inconsistent: tokens.inconsistent || overflow,
  };
}

function zeroAmounts(
  model: string | undefined,
  currency: string,
  usage: TokenUsage,
  inconsistent: boolean,
) {
  return {
    model,
    pricedAs: undefined,
    currency,
    tokens: usage,
    inputNanos: 0,
    cachedInputNanos: 0,
    cacheCreationNanos: 0,
    outputNanos: 0,
    totalNanos: undefined,
    inconsistent,
  };
}

/**
 * The counts to price, each a whole number from 0. When parts outgrow their
 * whole, the parts are believed: the uncached input is clamped to 0 and the
 * output is taken to be at least the reasoning.
 */
function billableTokens(usage: TokenUsage): BillableTokens {
  const input = wholeCount(usage.input);
  const cachedInput = wholeCount(usage.cachedInput);
  const cacheCreation = wholeCount(usage.cacheCreation);
  const output = wholeCount(usage.output);
  const reasoning = wholeCount(usage.reasoning);

  const uncachedInput = input.count - cachedInput.count - cacheCreation.count;
  const malformed = [input, cachedInput, cacheCreation, output, reasoning].some((c) => c.repaired);

  return {
    uncachedInput: Math.max(0, uncachedInput),
    cachedInput: cachedInput.count,
    cacheCreation: cacheCreation.count,
    output: Math.max(output.count, reasoning.count),
    inconsistent: malformed || uncachedInput < 0 || reasoning.count > output.count,
  };
}

/** `value` as a whole count from 0 to the largest safe integer, and whether it had to change. */
function wholeCount(value: number): { count: number; repaired: boolean } {
  if (Number.isSafeInteger(value) && value >= 0) return { count: value, repaired: false };

  const count = value > 0 ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER) : 0;
  return { count, repaired: true };
}

function picos(tokens: number, microsPerMillion: number): bigint {
  return BigInt(tokens) * BigInt(microsPerMillion);
}

function displayNanos(picoUnits: bigint): number {
  const nanos = picosToNanos(picoUnits);

  return nanos > BigInt(MAX_SAFE_NANOS) ? MAX_SAFE_NANOS : Number(nanos);
}
