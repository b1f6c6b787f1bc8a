import type { UpstreamSource } from '../config/tollgate-config.js';
import type { RequestFacts } from './request-facts.js';

/** Longest upstream name accepted; longer values are treated as absent. */
export const MAX_UPSTREAM_NAME_LENGTH = 256;

/**
 * Reads the request's upstream name from the configured sources, first
 * non-empty match wins. Returns undefined when no source has a usable value.
 */
export function resolveUpstream(
  sources: readonly UpstreamSource[],
  facts: RequestFacts,
): string | undefined {
  for (const source of sources) {
    const value = readSource(source, facts);
    if (value && value.length <= MAX_UPSTREAM_NAME_LENGTH) return value;
  }
  return undefined;
}

function readSource(source: UpstreamSource, facts: RequestFacts): string | undefined {
  switch (source.kind) {
    case 'attribute':
      return facts.attributes.get(source.name);
    case 'header':
      return facts.headers.get(source.name);
    case 'authority':
      return facts.headers.get(':authority') ?? facts.headers.get('host');
  }
}
