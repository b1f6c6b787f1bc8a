import type { ProtoStruct, ProtoValue } from './ext-proc/messages.js';

/** A value a flat metadata Struct can hold; undefined fields are left out. */
export type StructScalar = string | number | boolean | undefined;

/**
 * A flat `google.protobuf.Struct` of scalars, for the dynamic metadata tollgate
 * hands to Envoy. Fields whose value is undefined are left out, so the access
 * log prints `-` for them.
 */
export function scalarStruct(fields: Readonly<Record<string, StructScalar>>): ProtoStruct {
  const proto: Record<string, ProtoValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'number') proto[name] = { numberValue: value };
    else if (typeof value === 'string') proto[name] = { stringValue: value };
    else if (typeof value === 'boolean') proto[name] = { boolValue: value };
  }
  return { fields: proto };
}
