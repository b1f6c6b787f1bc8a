import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import type { Clock } from '../time/clock.js';
import type { ReloadOutcome, ReloadRequest } from './reload-controller.js';
import { ReloadScheduler } from './reload-scheduler.js';

/** Quiet time after the last change before the file is read, by default. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 250;

/** What a {@link ConfigWatcher} needs. */
export interface ConfigWatcherOptions {
  /** The config file to watch. */
  readonly file: string;
  /** Runs one reload; a {@link ReloadController}'s `reload` in production. */
  readonly reload: (request: ReloadRequest) => Promise<ReloadOutcome>;
  readonly logger: Logger;
  /** Quiet time after the last change; {@link DEFAULT_RELOAD_DEBOUNCE_MS} by default. */
  readonly debounceMs?: number;
  /** Told how each watched reload ended (tests and diagnostics). */
  readonly onOutcome?: (outcome: ReloadOutcome) => void;
  readonly clock?: Clock;
}

/**
 * Watches the config file and reloads it when it changes.
 *
 * The directory is watched, not the file: editors that save by writing a new
 * file and renaming it over the old one (vim, most IDEs, `kubectl` config
 * maps) replace the inode, and a watch on the old inode would go quiet after
 * the first save. Entries named like the file count, and so do names starting
 * with `..`, which is how a Kubernetes config-map volume swaps its contents;
 * other files in the directory are ignored.
 *
 * Limit: fs.watch does not work on some network file systems; SIGHUP still
 * reloads there.
 */
export class ConfigWatcher {
  private readonly scheduler: ReloadScheduler;
  private watcher: FSWatcher | null = null;

  constructor(private readonly options: ConfigWatcherOptions) {
    this.scheduler = new ReloadScheduler({
      debounceMs: options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS,
      reload: options.reload,
      onOutcome: options.onOutcome,
      clock: options.clock,
    });
  }

  /**
   * Starts watching. A directory that cannot be watched is logged as a
   * warning and start-up goes on: SIGHUP still reloads.
   */
  start(): void {
    if (this.watcher) return;

    const directory = path.dirname(path.resolve(this.options.file));
    const base = path.basename(this.options.file);
    try {
      this.watcher = watch(directory, { persistent: false }, (_event, name) => {
        if (name === null || name === base || name.startsWith('..')) this.scheduler.notify();
      });
    } catch (error) {
      this.warn(directory, error);
      return;
    }

    this.watcher.on('error', (error) => {
      this.warn(directory, error);
      this.stop();
    });
  }

  /** Stops watching and cancels a pending reload. */
  stop(): void {
    this.scheduler.dispose();
    this.watcher?.close();
    this.watcher = null;
  }

  private warn(directory: string, error: unknown): void {
    this.options.logger.warn(
      { config: this.options.file, directory, err: error },
      'cannot watch the config directory; edits are picked up on SIGHUP only',
    );
  }
}
