import { pino, type DestinationStream, type Logger } from 'pino';

/** Header names whose values are secrets and never reach a log line. */
export const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
] as const;

/**
 * Every place a header bag can appear in a log line: `headers.<name>` at the
 * top level or one or two levels down (`req.headers`, `request.http.headers`).
 */
function redactPaths(extraSecrets: readonly string[]): string[] {
  const names = [...new Set([...SECRET_HEADERS, ...extraSecrets])];
  const prefixes = ['headers', '*.headers', '*.*.headers'];
  return prefixes.flatMap((prefix) => names.map((name) => `${prefix}["${name}"]`));
}

/**
 * Creates the process logger: JSON lines with secrets redacted by pino's own
 * redaction (not by hand at each call site). `extraSecrets` names further
 * secret headers, such as an API key header the config reads tenants from.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  extraSecrets: readonly string[] = [],
): Logger {
  const options = {
    level,
    base: { service: 'tollgate' },
    redact: { paths: redactPaths(extraSecrets), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };

  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
