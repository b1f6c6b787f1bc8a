import protobuf from 'protobufjs';

import { parseYaml, type LocatedYaml } from '../../src/config/parse-yaml.js';
import { suggestion } from './closest-name.js';
import { EnvoyProtoRoot } from './envoy-proto-root.js';
import {
  describeValue,
  durationProblem,
  jsonValueProblem,
  scalarProblem,
  timestampProblem,
} from './proto-json-scalars.js';

/** The message type of a whole Envoy config file. */
export const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

/** One thing Envoy would reject, with where it is. */
export interface EnvoyConfigProblem {
  /** Dotted path, e.g. `static_resources.clusters[0].connect_timeout`. */
  path: string;
  /** 1-based line in the YAML text, when validated from text. */
  line?: number;
  message: string;
}

type Segment = string | number;

interface Located {
  segments: Segment[];
  message: string;
}

/** Well-known types whose JSON form is not an object of their fields. */
const WRAPPERS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const SPECIAL_JSON: Record<string, (value: unknown) => string | undefined> = {
  'google.protobuf.Duration': durationProblem,
  'google.protobuf.Timestamp': timestampProblem,
  'google.protobuf.Value': jsonValueProblem,
  'google.protobuf.FieldMask': (value) => scalarProblem('string', value),
  'google.protobuf.Struct': (value) =>
    isPlainObject(value)
      ? jsonValueProblem(value)
      : `expected an object, got ${describeValue(value)}`,
  'google.protobuf.ListValue': (value) =>
    Array.isArray(value) ? jsonValueProblem(value) : `expected a list, got ${describeValue(value)}`,
  ...Object.fromEntries(
    Object.entries(WRAPPERS).map(([name, scalar]) => [
      name,
      (value: unknown) => scalarProblem(scalar, value),
    ]),
  ),
};

/** Envoy's untyped stand-ins for an extension's config: `value` holds `type_url`'s fields. */
const TYPED_STRUCTS = new Set(['udpa.type.v1.TypedStruct', 'xds.type.v3.TypedStruct']);

const ANY_TYPE = 'google.protobuf.Any';

/**
 * Checks an Envoy config against Envoy's own API protos, the way Envoy's
 * loader does (protobuf's JSON mapping over the YAML): every field must exist
 * in its message (proto name or JSON camelCase name), every value must have
 * its field's type, every `@type` must name a message of Envoy's API and its
 * fields are checked in turn. It also applies the protoc-gen-validate rules
 * that catch most slips (required messages and oneofs, minimum string
 * lengths, integer bounds) and rejects deprecated fields and enum values.
 *
 * Limits: only those validate rules are applied; values inside strings
 * (access log format commands, regexes, addresses) are not parsed.
 */
export class EnvoyConfigValidator {
  private readonly fieldIndexes = new Map<protobuf.Type, Map<string, protobuf.FieldBase>>();

  constructor(private readonly protos: EnvoyProtoRoot = EnvoyProtoRoot.load()) {}

  /** Every problem in `value` read as a `typeName` message (a Bootstrap by default). */
  validate(value: unknown, typeName = BOOTSTRAP_TYPE): EnvoyConfigProblem[] {
    return this.locatedProblems(value, typeName).map(({ segments, message }) => ({
      path: formatPath(segments),
      message,
    }));
  }

  /** Parses YAML text (strictly: duplicate keys are problems) and validates it. */
  validateYaml(text: string, typeName = BOOTSTRAP_TYPE): EnvoyConfigProblem[] {
    const parsed = parseYaml(text);
    if (!parsed.ok) {
      return parsed.problems.map(({ path, line, message }) => ({ path, line, message }));
    }

    const { yaml } = parsed;
    return this.locatedProblems(yaml.value, typeName).map(({ segments, message }) => ({
      path: formatPath(segments),
      line: lineOfKey(yaml, segments),
      message,
    }));
  }

  private locatedProblems(value: unknown, typeName: string): Located[] {
    const type = this.protos.messageType(typeName);
    if (!type) throw new Error(`${typeName} is not a message of Envoy's API`);

    const problems: Located[] = [];
    this.checkMessage(type, value, [], problems);
    return problems;
  }

  private checkMessage(type: protobuf.Type, value: unknown, at: Segment[], out: Located[]): void {
    const name = fullName(type);
    if (value === null) return;

    const special = SPECIAL_JSON[name];
    if (special) return report(out, at, special(value));
    if (name === ANY_TYPE) return this.checkAny(value, at, out);
    if (!isPlainObject(value)) {
      return report(out, at, `expected an object (${name}), got ${describeValue(value)}`);
    }

    const seen = new Map<protobuf.FieldBase, string>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = this.field(type, key, at, out);
      if (!field) continue;

      const earlier = seen.get(field);
      if (earlier !== undefined) {
        report(out, [...at, key], `${field.name} is set twice (also as ${earlier})`);
      }
      seen.set(field, key);
      this.checkField(field, fieldValue, [...at, key], out);
    }

    this.checkOneofs(type, value, at, out);
    this.checkRequired(type, value, at, out);
    if (TYPED_STRUCTS.has(name)) this.checkTypedStruct(value, at, out);
  }

  private field(
    type: protobuf.Type,
    key: string,
    at: Segment[],
    out: Located[],
  ): protobuf.FieldBase | undefined {
    const field = this.fieldIndex(type).get(key);
    if (field) return field;

    const removed = (type.reserved ?? []).includes(key);
    const hint = removed
      ? ' (it was removed from the API)'
      : suggestion(
          key,
          type.fieldsArray.map((candidate) => candidate.name),
        );
    report(out, [...at, key], `unknown field "${key}" in ${fullName(type)}${hint}`);
    return undefined;
  }

  private checkField(
    field: protobuf.FieldBase,
    value: unknown,
    at: Segment[],
    out: Located[],
  ): void {
    if (field.options?.deprecated === true) {
      report(out, at, `${field.name} is deprecated in Envoy's API; use its replacement`);
    }
    if (value === null) return;

    if (field instanceof protobuf.MapField) return this.checkMap(field, value, at, out);
    if (!field.repeated) return this.checkElement(field, value, at, out);

    if (!Array.isArray(value)) {
      return report(out, at, `expected a list, got ${describeValue(value)}`);
    }
    value.forEach((element, index) => this.checkElement(field, element, [...at, index], out));
  }

  private checkMap(field: protobuf.MapField, value: unknown, at: Segment[], out: Located[]): void {
    if (!isPlainObject(value)) {
      return report(out, at, `expected an object (map), got ${describeValue(value)}`);
    }

    for (const [key, element] of Object.entries(value)) {
      if (field.keyType !== 'string') report(out, [...at, key], scalarProblem(field.keyType, key));
      this.checkElement(field, element, [...at, key], out);
    }
  }

  private checkElement(field: protobuf.FieldBase, value: unknown, at: Segment[], out: Located[]) {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.checkMessage(resolved, value, at, out);
    if (resolved instanceof protobuf.Enum) return checkEnum(resolved, value, at, out);

    const problem = scalarProblem(field.type, value);
    if (problem) return report(out, at, problem);
    checkValidateRules(field, value, at, out);
  }

  /**
   * An Any is `{'@type': 'type.googleapis.com/<message>', ...fields}`; a
   * well-known type with its own JSON form goes under `value` instead.
   */
  private checkAny(value: unknown, at: Segment[], out: Located[]): void {
    if (!isPlainObject(value)) {
      return report(out, at, `expected an object with "@type", got ${describeValue(value)}`);
    }

    const { '@type': typeUrl, ...fields } = value;
    const type = this.typeOfUrl(typeUrl, [...at, '@type'], out);
    if (!type) return;

    const name = fullName(type);
    if (!SPECIAL_JSON[name] && name !== ANY_TYPE) return this.checkMessage(type, fields, at, out);

    for (const key of Object.keys(fields).filter((key) => key !== 'value')) {
      report(out, [...at, key], `unknown field "${key}": a ${name} in an Any goes under "value"`);
    }
    this.checkMessage(type, fields.value, [...at, 'value'], out);
  }

  private checkTypedStruct(value: Record<string, unknown>, at: Segment[], out: Located[]): void {
    const type = this.typeOfUrl(value.type_url ?? value.typeUrl, [...at, 'type_url'], out);
    if (type) this.checkMessage(type, value.value ?? {}, [...at, 'value'], out);
  }

  private typeOfUrl(url: unknown, at: Segment[], out: Located[]): protobuf.Type | undefined {
    if (typeof url !== 'string' || !url.includes('/')) {
      report(
        out,
        at,
        `expected a type URL such as "type.googleapis.com/envoy.…", got ${describeValue(url)}`,
      );
      return undefined;
    }

    const name = url.slice(url.lastIndexOf('/') + 1);
    const type = this.protos.messageType(name);
    if (type) return type;

    const packageName = name.slice(0, name.lastIndexOf('.'));
    const hint = suggestion(name, this.protos.messageNames(packageName));
    report(out, at, `unknown type ${name}: no such message in Envoy's API${hint}`);
    return undefined;
  }

  private checkOneofs(
    type: protobuf.Type,
    value: Record<string, unknown>,
    at: Segment[],
    out: Located[],
  ) {
    for (const oneof of type.oneofsArray) {
      const set = this.presentMembers(type, oneof, value);
      if (set.length > 1) {
        report(out, at, `set only one of ${set.join(', ')} (oneof ${oneof.name})`);
      }

      const required = oneof.options?.['(validate.required)'] === true;
      if (required && set.length === 0) {
        const members = oneof.fieldsArray.map((field) => field.name).join(', ');
        report(out, at, `one of ${members} is required in ${fullName(type)}`);
      }
    }
  }

  private checkRequired(
    type: protobuf.Type,
    value: Record<string, unknown>,
    at: Segment[],
    out: Located[],
  ) {
    for (const field of type.fieldsArray) {
      // A oneof member's rule applies only when that member is the one set.
      if (field.partOf) continue;
      if (field.options?.['(validate.rules).message.required'] !== true) continue;
      if (this.presentMembers(type, { fieldsArray: [field] }, value).length > 0) continue;

      report(out, at, `${field.name} is required in ${fullName(type)}`);
    }
  }

  private presentMembers(
    type: protobuf.Type,
    group: { fieldsArray: protobuf.FieldBase[] },
    value: Record<string, unknown>,
  ): string[] {
    const index = this.fieldIndex(type);
    return Object.entries(value)
      .filter(
        ([key, fieldValue]) => fieldValue !== null && group.fieldsArray.includes(index.get(key)!),
      )
      .map(([key]) => key);
  }

  /** Field by proto name and by JSON (lowerCamelCase) name. */
  private fieldIndex(type: protobuf.Type): Map<string, protobuf.FieldBase> {
    let index = this.fieldIndexes.get(type);
    if (index) return index;

    index = new Map();
    for (const field of type.fieldsArray) {
      index.set(field.name, field);
      index.set(jsonName(field.name), field);
    }
    this.fieldIndexes.set(type, index);
    return index;
  }
}

function checkEnum(type: protobuf.Enum, value: unknown, at: Segment[], out: Located[]): void {
  if (fullName(type) === 'google.protobuf.NullValue' && value === null) return;

  const names = Object.keys(type.values);
  const name =
    typeof value === 'string' ? value : names.find((candidate) => type.values[candidate] === value);
  if (name === undefined || !(name in type.values)) {
    const hint = typeof value === 'string' ? suggestion(value, names) : '';
    return report(
      out,
      at,
      `expected one of ${names.join(', ')}, got ${describeValue(value)}${hint}`,
    );
  }

  if (type.valuesOptions?.[name]?.deprecated === true) {
    report(out, at, `${name} is a deprecated value of ${fullName(type)}`);
  }
}

/** The subset of protoc-gen-validate rules on scalars: string min_len, integer bounds. */
function checkValidateRules(
  field: protobuf.FieldBase,
  value: unknown,
  at: Segment[],
  out: Located[],
) {
  const rules = field.options ?? {};
  const minLength = rules['(validate.rules).string.min_len'];
  if (typeof minLength === 'number' && typeof value === 'string' && value.length < minLength) {
    report(out, at, `must be at least ${minLength} character(s) long`);
  }

  if (typeof value !== 'number' && typeof value !== 'string') return;
  const number = Number(value);
  const bound = (rule: string) => rules[`(validate.rules).${field.type}.${rule}`];
  const checks: Array<[string, (limit: number) => boolean, string]> = [
    ['gt', (limit) => number > limit, 'greater than'],
    ['gte', (limit) => number >= limit, 'at least'],
    ['lt', (limit) => number < limit, 'less than'],
    ['lte', (limit) => number <= limit, 'at most'],
  ];
  for (const [rule, holds, words] of checks) {
    const limit = bound(rule);
    if (typeof limit === 'number' && !holds(limit)) report(out, at, `must be ${words} ${limit}`);
  }
}

/** The line of the key that holds the value at `segments` (a list item: its own line). */
function lineOfKey(yaml: LocatedYaml, segments: readonly Segment[]): number | undefined {
  const last = segments.at(-1);
  if (typeof last !== 'string') return yaml.lineOf(segments);
  return yaml.lineOf(segments.slice(0, -1), last);
}

function report(out: Located[], at: Segment[], message: string | undefined): void {
  if (message !== undefined) out.push({ segments: at, message });
}

function fullName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, '');
}

/** protobuf's JSON name: `buffer_limit_bytes` → `bufferLimitBytes`. */
function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `static_resources.clusters[0].typed_extension_protocol_options["envoy.x.y"]`. */
function formatPath(segments: readonly Segment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_@][\w@]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
