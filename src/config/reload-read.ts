import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

import type { ConfigProblem } from './config-error.js';
import { MAX_CONFIG_BYTES } from './load-config.js';

/** The whole text of the config file, read while nobody was writing it. */
export type ConfigFileRead =
  | { readonly ok: true; readonly text: string; readonly version: string }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/**
 * The version of a config text: the first 12 hex digits of its SHA-256, the
 * same as `parseConfigText` puts in `config.source.version`, so a text can be
 * compared with the running config without parsing it.
 */
export function configVersionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Reads the config file in one go for a reload. The file is refused, as a
 * problem and never an exception, when it cannot be read, is too large, is
 * empty (an editor that truncates before writing leaves it so for a moment,
 * and at reload time an empty file would reset every setting), or changed
 * size or modification time while it was read (someone is still writing it).
 *
 * Limit: a writer that keeps size and mtime while rewriting the file in place
 * is not detected here; the watcher's debounce covers that case.
 */
export async function readConfigForReload(file: string): Promise<ConfigFileRead> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    return refused(`cannot read the file: ${(error as Error).message}`);
  }

  try {
    const before = await handle.stat();
    if (before.size > MAX_CONFIG_BYTES) {
      return refused(`file is ${before.size} bytes; the limit is ${MAX_CONFIG_BYTES}`);
    }

    const bytes = await handle.readFile();
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      return refused('the file changed while it was read (still being written); not applied');
    }

    const text = bytes.toString('utf8');
    if (text.trim() === '') {
      return refused('the file is empty (truncated, or still being written); not applied');
    }
    return { ok: true, text, version: configVersionOf(text) };
  } catch (error) {
    return refused(`cannot read the file: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

function refused(message: string): ConfigFileRead {
  return { ok: false, problems: [{ path: '', message }] };
}
