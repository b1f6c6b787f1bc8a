import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import type { Clock } from '../time/clock.js';
import { ConfigWatcher } from './config-watcher.js';
import {
  ReloadController,
  type ReloadOutcome,
  type ReloadStatus,
  type ReloadTrigger,
} from './reload-controller.js';
import type { TollgateConfig } from './tollgate-config.js';

/** How the config file is reloaded while tollgate runs. */
export interface ConfigReloadSettings {
  /** The config file start-up read. */
  readonly file: string;
  /** Reload when the file changes, not only on SIGHUP; true by default. */
  readonly watch?: boolean;
  /** Quiet time after the last change before the file is read. */
  readonly debounceMs?: number;
  /**
   * Adjusts a freshly parsed config before it is applied, as start-up did
   * (command-line address overrides, for instance).
   */
  readonly prepare?: (config: TollgateConfig) => TollgateConfig;
}

/** What a {@link ConfigReloadService} needs besides its settings. */
export interface ConfigReloadDeps {
  readonly initial: TollgateConfig;
  /** Makes a valid config live; a throw keeps the old one. */
  readonly apply: (config: TollgateConfig) => void | Promise<void>;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clock?: Clock;
}

/**
 * Config hot reload as one piece: a {@link ReloadController} that applies
 * only valid files, fed by a {@link ConfigWatcher} and by {@link reload}
 * (which `main` calls on SIGHUP).
 */
export class ConfigReloadService {
  private readonly controller: ReloadController;
  private readonly watcher: ConfigWatcher | undefined;

  constructor(settings: ConfigReloadSettings, deps: ConfigReloadDeps) {
    const prepare = settings.prepare ?? ((config: TollgateConfig) => config);
    this.controller = new ReloadController({
      file: settings.file,
      initial: deps.initial,
      apply: (config) => deps.apply(prepare(config)),
      logger: deps.logger,
      metrics: deps.metrics,
      clock: deps.clock,
    });

    if (settings.watch === false) return;
    this.watcher = new ConfigWatcher({
      file: settings.file,
      reload: (request) => this.controller.reload(request),
      logger: deps.logger,
      debounceMs: settings.debounceMs,
      clock: deps.clock,
    });
  }

  /** Starts watching the file (when watching is on). */
  start(): void {
    this.watcher?.start();
  }

  /** Re-reads the file now; SIGHUP calls this. Never rejects. */
  reload(trigger: ReloadTrigger = 'signal'): Promise<ReloadOutcome> {
    return this.controller.reload({ trigger });
  }

  /** Last good version and time, and the last error, for /status. */
  status(): ReloadStatus {
    return this.controller.status();
  }

  /** Stops watching for good; a reload already running finishes. */
  stop(): void {
    this.watcher?.stop();
  }
}
