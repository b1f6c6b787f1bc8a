import type { ProtoStruct, ProtoValue } from './messages.js';

/**
 * Flattens `ProcessingRequest.attributes` into attribute name → string value.
 * Envoy keys the map by filter name (`envoy.filters.http.ext_proc`) and puts
 * each requested attribute (`xds.cluster_name`, `request.id`, ...) in that
 * Struct; tollgate does not care which filter instance sent it.
 */
export function flattenAttributes(
  attributes: Record<string, ProtoStruct> | undefined,
): Map<string, string> {
  const flat = new Map<string, string>();

  for (const struct of Object.values(attributes ?? {})) {
    for (const [name, value] of Object.entries(struct.fields ?? {})) {
      const text = scalarText(value);
      if (text !== undefined) flat.set(name, text);
    }
  }
  return flat;
}

function scalarText(value: ProtoValue): string | undefined {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return String(value.numberValue);
  if (value.boolValue !== undefined) return String(value.boolValue);
  return undefined;
}
