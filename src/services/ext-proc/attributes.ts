import type { Metadata, ProtoStruct, ProtoValue } from './messages.js';

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

/**
 * Turns `metadata_context.filter_metadata` (namespace → Struct) into
 * namespace → plain JSON object; undefined when Envoy forwarded none.
 */
export function metadataToJson(metadata: Metadata | undefined): Map<string, unknown> | undefined {
  const namespaces = Object.entries(metadata?.filter_metadata ?? {});
  if (namespaces.length === 0) return undefined;

  return new Map(namespaces.map(([namespace, struct]) => [namespace, structToJson(struct)]));
}

function structToJson(struct: ProtoStruct | undefined): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(struct?.fields ?? {}))
    object[name] = valueToJson(value);
  return object;
}

function valueToJson(value: ProtoValue): unknown {
  if (value.structValue !== undefined) return structToJson(value.structValue);
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(valueToJson);
  if (value.nullValue !== undefined) return null;
  return value.stringValue ?? value.numberValue ?? value.boolValue;
}
