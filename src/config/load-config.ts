import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';

import { checkTlsFiles } from './check-tls-files.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { compileConfig, type TollgateConfig } from './tollgate-config.js';
import { locateIssues, parseYaml } from './parse-yaml.js';
import { configSchema } from './schema.js';

/** Config files larger than this are refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A validated config, or every problem that stops the file from being used. */
export type ConfigResult =
  | { ok: true; config: TollgateConfig; warnings: string[] }
  | { ok: false; problems: ConfigProblem[] };

const EMPTY_FILE_WARNING =
  'the config file is empty: every setting is at its default (was the file truncated?)';

/**
 * Parses and validates config text in full. Never throws for bad input: every
 * problem is returned at once, each with its path and line.
 */
export function parseConfigText(text: string, file: string): ConfigResult {
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed;

  const raw = parsed.yaml.value ?? {};
  const validated = configSchema.safeParse(raw);
  if (!validated.success) {
    return { ok: false, problems: locateIssues(parsed.yaml, validated.error.issues) };
  }

  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const config = compileConfig(validated.data, { file, version });
  const fileProblems = checkTlsFiles(config.server.tls);
  if (fileProblems.length > 0) return { ok: false, problems: fileProblems };

  const empty = parsed.yaml.value === null || parsed.yaml.value === undefined;
  return { ok: true, config, warnings: empty ? [EMPTY_FILE_WARNING] : [] };
}

/** Reads, parses and validates a config file; I/O failures are problems too. */
export async function loadConfigFile(file: string): Promise<ConfigResult> {
  try {
    const info = await stat(file);
    if (info.size > MAX_CONFIG_BYTES) {
      const message = `file is ${info.size} bytes; the limit is ${MAX_CONFIG_BYTES}`;
      return { ok: false, problems: [{ path: '', message }] };
    }

    return parseConfigText(await readFile(file, 'utf8'), file);
  } catch (error) {
    const message = `cannot read the file: ${(error as NodeJS.ErrnoException).message}`;
    return { ok: false, problems: [{ path: '', message }] };
  }
}

/** Like {@link loadConfigFile}, for start-up: a bad file throws a {@link ConfigError}. */
export async function loadConfigOrThrow(
  file: string,
): Promise<{ config: TollgateConfig; warnings: string[] }> {
  const result = await loadConfigFile(file);
  if (!result.ok) throw new ConfigError(file, result.problems);
  return { config: result.config, warnings: result.warnings };
}
