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

// Envoy's request ids are UUIDs; a client may send its own. A value that is
// not short visible ASCII (a 64 KiB header, control bytes, invalid UTF-8)
// would be repeated on every log line of the request, so it is not used.
const USABLE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The request id Envoy assigned, for log correlation: the `x-request-id`
 * header, else the `request.id` attribute, when it is 1-200 visible ASCII
 * characters.
 */
export function requestIdOf(facts: RequestFacts): string | undefined {
  const candidates = [facts.headers.get('x-request-id'), facts.attributes.get('request.id')];
  return candidates.find((id) => id !== undefined && USABLE_REQUEST_ID.test(id));
}
