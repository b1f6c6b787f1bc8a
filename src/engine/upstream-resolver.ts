import type { UpstreamSource } from '../config/tollgate-config.js';
import type { RequestFacts } from './request-facts.js';

/** Longest upstream name accepted; longer values are treated as absent. */
export const MAX_UPSTREAM_NAME_LENGTH = 256;

// Cluster names and authorities are visible ASCII. Anything else (control
// bytes, invalid UTF-8, spaces) would reach metric labels and logs, so such a
// value is treated as absent and the next source is tried.
const USABLE_NAME = /^[\x21-\x7e]+$/;

/**
 * Reads the request's upstream name from the configured sources: the first
 * usable value wins (visible ASCII, at most {@link MAX_UPSTREAM_NAME_LENGTH}
 * characters). Returns undefined when no source has one.
 */
export function resolveUpstream(
  sources: readonly UpstreamSource[],
  facts: RequestFacts,
): string | undefined {
  for (const source of sources) {
    const value = readSource(source, facts);
    if (value && value.length <= MAX_UPSTREAM_NAME_LENGTH && USABLE_NAME.test(value)) return value;
  }
  return undefined;
}

function readSource(source: UpstreamSource, facts: RequestFacts): string | undefined {
  switch (source.kind) {
    case 'attribute':
      return facts.attributes.get(source.name);
    case 'header':
      return facts.headers.get(source.name);
    // Host names are case-insensitive: one breaker for API.example and api.example.
    case 'authority':
      return (facts.headers.get(':authority') ?? facts.headers.get('host'))?.toLowerCase();
  }
}
