import type { TokenUsage } from '../usage/token-usage.js';

/**
 * The token counts a budget can charge. The parts nest as in
 * {@link TokenUsage}: `cached_input`, `cache_creation` and `uncached_input`
 * are parts of `input`; `reasoning` is part of `output`.
 */
export const TOKEN_PARTS = [
  'input',
  'uncached_input',
  'cached_input',
  'cache_creation',
  'output',
  'reasoning',
] as const;

/** One of {@link TOKEN_PARTS}. */
export type TokenPart = (typeof TOKEN_PARTS)[number];

/** Pairs of parts that would count the same tokens twice if both were chosen. */
const OVERLAPS: ReadonlyArray<readonly [TokenPart, TokenPart]> = [
  ['input', 'uncached_input'],
  ['input', 'cached_input'],
  ['input', 'cache_creation'],
  ['output', 'reasoning'],
];

/** The first pair of `parts` that counts some tokens twice, if any. */
export function overlappingParts(
  parts: readonly TokenPart[],
): readonly [TokenPart, TokenPart] | undefined {
  return OVERLAPS.find(([whole, part]) => parts.includes(whole) && parts.includes(part));
}

/** The tokens of `usage` that a budget counting `parts` is charged. */
export function countTokens(usage: TokenUsage, parts: readonly TokenPart[]): number {
  let total = 0;
  for (const part of parts) total += partOf(usage, part);
  return Math.max(0, Math.round(total));
}

function partOf(usage: TokenUsage, part: TokenPart): number {
  switch (part) {
    case 'input':
      return usage.input;
    case 'uncached_input':
      return Math.max(0, usage.input - usage.cachedInput - usage.cacheCreation);
    case 'cached_input':
      return usage.cachedInput;
    case 'cache_creation':
      return usage.cacheCreation;
    case 'output':
      return usage.output;
    case 'reasoning':
      return usage.reasoning;
  }
}
