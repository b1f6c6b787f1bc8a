import type { HeaderMap, HeaderMutation, HeaderValueOption } from './messages.js';

/**
 * Reads an Envoy header map into a Map keyed by lower-case name. Values come
 * from `raw_value` (Envoy ≥ 1.27) and fall back to `value` (older Envoys).
 * Repeated headers are joined with `,` as HTTP allows.
 */
export function readHeaderMap(map: HeaderMap | undefined): Map<string, string> {
  const headers = new Map<string, string>();

  for (const header of map?.headers ?? []) {
    const name = header.key.toLowerCase();
    const value = headerValueOf(header.raw_value, header.value);
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return headers;
}

// grpc-js decodes bytes fields as Buffers already; only a plain Uint8Array
// needs a Buffer view made over it.
function headerValueOf(raw: Buffer | Uint8Array | undefined, value: string | undefined): string {
  if (!raw || raw.length === 0) return value ?? '';
  if (Buffer.isBuffer(raw)) return raw.toString();
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString();
}

/**
 * One header to set, written with `raw_value` only: Envoy rejects a mutation
 * that sets both `value` and `raw_value`.
 */
export function setHeader(name: string, value: string): HeaderValueOption {
  return {
    header: { key: name, raw_value: Buffer.from(value) },
    append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
  };
}

/** A header mutation that sets each of `headers`, or undefined when there are none. */
export function headerMutation(
  headers: ReadonlyArray<readonly [string, string]>,
): HeaderMutation | undefined {
  if (headers.length === 0) return undefined;
  return { set_headers: headers.map(([name, value]) => setHeader(name, value)) };
}
