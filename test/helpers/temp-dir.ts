import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { repoPath } from './repo-files.js';

/** A folder under the OS temp dir that a test fills and removes when done. */
export class TempDir {
  private constructor(readonly root: string) {}

  /** Makes a fresh, empty folder named after `prefix`. */
  static create(prefix = 'tollgate-test-'): TempDir {
    return new TempDir(mkdtempSync(path.join(tmpdir(), prefix)));
  }

  /** The absolute path of `relative` inside the folder. */
  path(relative: string): string {
    return path.join(this.root, relative);
  }

  /** Writes `text` to `relative` (folders made as needed); returns its absolute path. */
  write(relative: string, text: string): string {
    const file = this.path(relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  /**
   * Copies the bundled config to `config/tollgate.yaml` here, so that what it
   * writes beside itself (the budget store, `../data/`) lands in this folder,
   * not in the repository. Returns the copy's path.
   */
  bundledConfig(): string {
    const file = this.path('config/tollgate.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    cpSync(repoPath('config/tollgate.yaml'), file);
    return file;
  }

  /**
   * Lays out tollgate here as `npm start` runs it from a checkout: the
   * compiled code, `package.json`, the bundled config, and the repository's
   * node_modules linked in. Returns the folder's path.
   */
  installedTollgate(): string {
    const root = this.path('tollgate');
    cpSync(repoPath('dist/src'), path.join(root, 'dist/src'), { recursive: true });
    cpSync(repoPath('package.json'), path.join(root, 'package.json'));
    cpSync(repoPath('config/tollgate.yaml'), path.join(root, 'config/tollgate.yaml'));
    symlinkSync(repoPath('node_modules'), path.join(root, 'node_modules'), 'dir');
    return root;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
