import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

/** The repository root: three levels above this compiled file (in dist/test/helpers). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a file given relative to the repository root. */
export function repoPath(relative: string): string {
  return path.join(ROOT, relative);
}

/** A repository file's text. */
export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** A repository YAML file, parsed to plain data. */
export function readRepoYaml(relative: string): unknown {
  return parse(readRepoFile(relative));
}

/** Whether a path relative to the repository root exists. */
export function repoFileExists(relative: string): boolean {
  return existsSync(repoPath(relative));
}
