import type { Logger } from 'pino';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { PolicyRegistries, PolicySnapshot } from '../policy/policy-registries.js';
import { restartOnlyChanges } from './reload-restart-fields.js';
import type { TollgateConfig } from './tollgate-config.js';

/** What a {@link LiveConfig} needs. */
export interface LiveConfigOptions<E> {
  /** The config start-up applied (listener fields included). */
  readonly initial: TollgateConfig;
  /**
   * Builds the engine that decides with a config and the policy snapshot made
   * from it; called once per applied config.
   */
  readonly buildEngine: (config: TollgateConfig, policies: PolicySnapshot) => E;
  /** The breakers every engine shares; a reload reconfigures them in place. */
  readonly breakers: BreakerSet;
  /** The scoped policy registries; each applied config replaces their items. */
  readonly policies: PolicyRegistries;
  readonly logger: Logger;
}

/**
 * The config and engine that new requests use, swapped as one by a reload.
 *
 * A stream reads {@link engine} once, when it starts, and keeps that engine
 * (and so that config) to its end; only streams that start after the swap
 * see the new one. The same holds for scoped policies: each engine is built
 * on a snapshot of the registries taken right after its config replaced
 * their items. Breakers are shared by every engine and survive a reload:
 * those whose upstream (or scoped id) is still configured keep their state
 * under the new thresholds, removed ones are dropped.
 */
export class LiveConfig<E> {
  private current: { readonly config: TollgateConfig; readonly engine: E };

  constructor(private readonly options: LiveConfigOptions<E>) {
    const { snapshot } = options.policies.replaceAll(options.initial.policies);
    const engine = options.buildEngine(options.initial, snapshot);
    this.current = { config: options.initial, engine };
  }

  /** The config new requests decide with. */
  get config(): TollgateConfig {
    return this.current.config;
  }

  /** The engine new streams decide with. */
  get engine(): E {
    return this.current.engine;
  }

  /**
   * Makes `next` live. Listener settings (addresses, TLS, message size) and
   * the budget store cannot change without a restart: they keep their running values, and a
   * warning names the ones the file changed. Throws, with nothing changed
   * (the policy registries are put back), if the engine cannot be built or
   * the breaker settings are out of range.
   *
   * Everything from the registry swap to the new engine is synchronous, so no
   * stream can start in between and see one without the other.
   */
  apply(next: TollgateConfig): void {
    const running = this.current.config;
    const needRestart = restartOnlyChanges(running, next);
    const config = withRestartOnly(next, running);

    const staged = this.options.policies.replaceAll(config.policies);
    let engine: E;
    try {
      engine = this.options.buildEngine(config, staged.snapshot);
      const { defaults, upstreams, maxDynamic, scoped } = config.breakers;
      this.options.breakers.reconfigure(defaults, upstreams, maxDynamic, scoped);
    } catch (error) {
      staged.undo();
      throw error;
    }
    this.current = { config, engine };

    this.options.logger.level = config.logLevel;
    if (needRestart.length > 0) {
      this.options.logger.warn(
        { fields: needRestart, version: config.source.version },
        `config reloaded, but ${needRestart.join(', ')} only change on restart; ` +
          'the running listeners keep their settings until tollgate is restarted',
      );
    }
  }
}

/**
 * `next` with the settings of `running` that a reload cannot change: the
 * listeners', and whether budgets are on and where their store is.
 */
function withRestartOnly(next: TollgateConfig, running: TollgateConfig): TollgateConfig {
  const server = Object.freeze({
    ...next.server,
    grpcAddress: running.server.grpcAddress,
    adminAddress: running.server.adminAddress,
    maxMessageBytes: running.server.maxMessageBytes,
    tls: running.server.tls,
  });
  const budgets = Object.freeze({
    ...next.budgets,
    enabled: running.budgets.enabled,
    store: running.budgets.store,
  });
  return Object.freeze({ ...next, server, budgets });
}
