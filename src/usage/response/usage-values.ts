import type { TokenUsage } from '../token-usage.js';

/**
 * The largest token count trusted from a provider. Far above any real request
 * (ten billion tokens), and far below 2^53, so sums of counts stay exact.
 */
export const MAX_TOKEN_COUNT = 10_000_000_000;

/**
 * Usage as far as it is known: a count is absent when the provider did not
 * state it (yet). The counts nest as in {@link TokenUsage}.
 */
export interface PartialUsage {
  readonly input?: number;
  readonly cachedInput?: number;
  readonly cacheCreation?: number;
  readonly output?: number;
  readonly reasoning?: number;
  readonly total?: number;
}

/** The name of one count of a {@link PartialUsage}. */
export type UsageCount = keyof PartialUsage;

/** Every {@link UsageCount}, in the order of {@link TokenUsage}. */
export const USAGE_COUNTS: readonly UsageCount[] = [
  'input',
  'cachedInput',
  'cacheCreation',
  'output',
  'reasoning',
  'total',
];

/**
 * Whether a value from provider JSON is a token count to trust: a number that
 * is an integer from 0 to {@link MAX_TOKEN_COUNT}. Strings ("12"), fractions,
 * negatives, NaN, booleans and objects are not.
 */
export function isTokenCount(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT
  );
}

/** One count as read from provider JSON: not stated, trusted, or not trusted. */
export type CountReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'trusted'; readonly value: number }
  | { readonly kind: 'rejected' };

/**
 * Reads one count from provider JSON. `undefined` and `null` are absent (OpenAI
 * streams send `"usage": null` in every chunk but the last); any other value
 * that is not a {@link isTokenCount token count} is rejected.
 */
export function readCount(value: unknown): CountReading {
  if (value === undefined || value === null) return { kind: 'absent' };
  if (!isTokenCount(value)) return { kind: 'rejected' };
  return { kind: 'trusted', value };
}

/** Whether `usage` states no count at all. */
export function isEmptyUsage(usage: PartialUsage): boolean {
  return USAGE_COUNTS.every((name) => usage[name] === undefined);
}

/**
 * Combines two readings of the same response's usage, count by count, keeping
 * the larger. Streams report usage cumulatively (some in every chunk, Anthropic
 * split between `message_start` and `message_delta`), so a later reading never
 * lowers or erases a count an earlier one stated.
 */
export function mergeUsage(a: PartialUsage, b: PartialUsage): PartialUsage {
  const merged: Partial<Record<UsageCount, number>> = {};
  for (const name of USAGE_COUNTS) {
    const count = larger(a[name], b[name]);
    if (count !== undefined) merged[name] = count;
  }
  return merged;
}

/**
 * The full usage a merged reading stands for. A count never stated is 0. A part
 * never exceeds its whole (`cachedInput + cacheCreation <= input`,
 * `reasoning <= output`), so the uncached input can't go negative. The total is
 * the provider's when it states one at least `input + output`; a smaller one
 * contradicts the counts it came with and is replaced by `input + output`.
 */
export function toTokenUsage(usage: PartialUsage): TokenUsage {
  const input = usage.input ?? 0;
  const output = usage.output ?? 0;
  const cachedInput = Math.min(usage.cachedInput ?? 0, input);
  const cacheCreation = Math.min(usage.cacheCreation ?? 0, input - cachedInput);
  const reasoning = Math.min(usage.reasoning ?? 0, output);

  const counted = input + output;
  const total = usage.total !== undefined && usage.total >= counted ? usage.total : counted;
  return { input, cachedInput, cacheCreation, output, reasoning, total };
}

function larger(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
