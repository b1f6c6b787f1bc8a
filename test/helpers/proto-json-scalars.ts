/**
 * Checks of single values against protobuf's JSON mapping, which is what
 * Envoy applies to its YAML: each function returns what is wrong with the
 * value, or undefined when Envoy would accept it.
 */

const INT_TEXT = /^-?\d+$/;
const FLOAT_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BASE64 = /^([A-Za-z0-9+/_-]{4})*([A-Za-z0-9+/_-]{2}(==)?|[A-Za-z0-9+/_-]{3}=?)?$/;
const DURATION = /^-?(\d+)(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The largest |seconds| a google.protobuf.Duration holds (10,000 years). */
const MAX_DURATION_SECONDS = 315_576_000_000;

const INTEGER_RANGES: Record<string, readonly [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Describes a value for a message: `the string "abc"`, `the number 3`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `the ${typeof value} ${value}`;
  }
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * Checks a value of a scalar field type (`string`, `bool`, `uint32`, `double`,
 * `bytes`, ...). Integers may be numbers or decimal strings, as the JSON
 * mapping allows; 64-bit integers beyond 2^53 should be written as strings.
 */
export function scalarProblem(protoType: string, value: unknown): string | undefined {
  const range = INTEGER_RANGES[protoType];
  if (range) return integerProblem(protoType, range, value);

  switch (protoType) {
    case 'string':
      return typeof value === 'string' ? undefined : expected('a string', value);
    case 'bool':
      return typeof value === 'boolean' ? undefined : expected('true or false', value);
    case 'double':
    case 'float':
      return floatProblem(protoType, value);
    case 'bytes':
      return typeof value === 'string' && BASE64.test(value)
        ? undefined
        : expected('base64 text (bytes)', value);
    default:
      return `unsupported proto scalar type ${protoType}`;
  }
}

/** Checks a google.protobuf.Duration: a string of seconds such as `"0.25s"`. */
export function durationProblem(value: unknown): string | undefined {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  if (!match) return expected('a duration string such as "0.25s" or "30s"', value);

  if (Number(match[1]) > MAX_DURATION_SECONDS) return 'duration out of range (over 10,000 years)';
  return undefined;
}

/** Checks a google.protobuf.Timestamp: RFC 3339 text such as `"2026-01-15T12:00:00Z"`. */
export function timestampProblem(value: unknown): string | undefined {
  const valid = typeof value === 'string' && TIMESTAMP.test(value) && !isNaN(Date.parse(value));
  return valid
    ? undefined
    : expected('an RFC 3339 timestamp such as "2026-01-15T12:00:00Z"', value);
}

/** Checks a google.protobuf.Value: any JSON value. */
export function jsonValueProblem(value: unknown): string | undefined {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return undefined;
  if (Array.isArray(value)) return value.map(jsonValueProblem).find(Boolean);
  if (typeof value === 'object') return Object.values(value).map(jsonValueProblem).find(Boolean);
  return expected('a JSON value', value);
}

function integerProblem(
  protoType: string,
  [min, max]: readonly [bigint, bigint],
  value: unknown,
): string | undefined {
  const text =
    typeof value === 'number' && Number.isInteger(value)
      ? String(value)
      : typeof value === 'string' && INT_TEXT.test(value)
        ? value
        : undefined;
  if (text === undefined) return expected(`an integer (${protoType})`, value);

  const number = BigInt(text);
  if (number < min || number > max) return `${text} is out of range for ${protoType}`;
  return undefined;
}

function floatProblem(protoType: string, value: unknown): string | undefined {
  if (typeof value === 'number') return undefined;

  const special = ['NaN', 'Infinity', '-Infinity'];
  if (typeof value === 'string' && (special.includes(value) || FLOAT_TEXT.test(value))) {
    return undefined;
  }
  return expected(`a number (${protoType})`, value);
}

function expected(what: string, value: unknown): string {
  return `expected ${what}, got ${describeValue(value)}`;
}
