/**
 * What the decision engine knows about a request, independent of the front
 * end (ext_proc or ext_authz) that delivered it.
 */
export interface RequestFacts {
  /** Request headers, names lower-cased; repeated headers joined with `,`. */
  readonly headers: ReadonlyMap<string, string>;
  /** Envoy attributes by name (`xds.cluster_name`, `request.id`, ...), flattened. */
  readonly attributes: ReadonlyMap<string, string>;
  /**
   * Envoy metadata forwarded to the filter (`metadata_context`), namespace →
   * plain JSON value; absent when Envoy forwarded none.
   */
  readonly metadata?: ReadonlyMap<string, unknown>;
}

/** The request id Envoy assigned, for log correlation. */
export function requestIdOf(facts: RequestFacts): string | undefined {
  return facts.headers.get('x-request-id') ?? facts.attributes.get('request.id');
}
