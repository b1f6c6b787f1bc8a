/** Parses a probe body as JSON; undefined when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads a dotted field (`status`, `data.0.state`) from parsed JSON. Numeric
 * parts index arrays. Undefined when any step is missing.
 */
export function readField(document: unknown, dotted: string): unknown {
  let node: unknown = document;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A short, log-safe rendering of a value seen in a probe response. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';

  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
