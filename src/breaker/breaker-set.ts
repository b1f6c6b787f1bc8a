import { systemClock, type Clock } from '../time/clock.js';
import { BreakerEvents } from './breaker-events.js';
import { assertValidBreakerSettings, type BreakerSettings } from './breaker-settings.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** What a {@link BreakerSet} is built from. */
export interface BreakerSetOptions {
  /** Settings for upstreams that have no entry of their own. */
  readonly defaults: BreakerSettings;

  /** Upstreams with their own settings; their breakers always exist. */
  readonly perUpstream: ReadonlyMap<string, BreakerSettings>;

  /**
   * Breakers of namespaces and services, by canonical id (`payments:llm`);
   * they always exist too, and only {@link BreakerSet.findScoped} returns
   * them to requests.
   */
  readonly scoped?: ReadonlyMap<string, BreakerSettings>;

  /** How many breakers may be created on demand for unconfigured upstreams. */
  readonly maxDynamic: number;

  /** Time source shared by every breaker; the system clock by default. */
  readonly clock?: Clock;

  /** Event hub shared by every breaker; a new one by default. */
  readonly events?: BreakerEvents;
}

/**
 * One circuit breaker per upstream. Configured upstreams get their breaker up
 * front; any other upstream gets one from the defaults the first time it is
 * asked for, up to `maxDynamic` of them, because upstream names can come from
 * request traffic and must not grow memory without bound.
 *
 * Dynamic breakers are never evicted: once the cap is reached, further new
 * names stay unguarded until restart.
 *
 * Scoped breakers (a namespace's or service's own, named by canonical id) are
 * kept apart, so that traffic naming an upstream never reaches one by name.
 * A dynamic breaker whose upstream name equals a scoped id (an authority
 * `payments:8080` beside upstream `8080` of namespace `payments`) shares that
 * name on /status, in metrics and for the admin controls, which act on the
 * scoped one; config validation rules out the same clash for configured ones.
 *
 * Breakers made after construction are announced on `events` (`onAdded`), as
 * are those a reconfigure drops (`onRemoved`); observers read {@link list}
 * for the ones the constructor made.
 */
export class BreakerSet {
  /** Transitions and rejections of every breaker in the set. */
  readonly events: BreakerEvents;

  private readonly clock: Clock;
  private readonly configured = new Map<string, CircuitBreaker>();
  private readonly scoped = new Map<string, CircuitBreaker>();
  private readonly dynamic = new Map<string, CircuitBreaker>();
  private defaults: BreakerSettings;
  private maxDynamic: number;
  private capReported = false;

  /** Throws a `RangeError` if any settings or `maxDynamic` are out of range. */
  constructor(options: BreakerSetOptions) {
    const scoped = options.scoped ?? new Map<string, BreakerSettings>();
    assertValid(options.defaults, options.perUpstream, options.maxDynamic, scoped);

    this.events = options.events ?? new BreakerEvents();
    this.clock = options.clock ?? systemClock;
    this.defaults = options.defaults;
    this.maxDynamic = options.maxDynamic;

    for (const [name, settings] of options.perUpstream) {
      this.configured.set(name, this.create(name, settings));
    }
    for (const [id, settings] of scoped) this.scoped.set(id, this.create(id, settings));
  }

  /**
   * The breaker for `upstream`, created from the defaults if it is new.
   * Returns `undefined` when it would be a new dynamic breaker beyond
   * `maxDynamic`: the caller then lets the request through unguarded.
   */
  get(upstream: string): CircuitBreaker | undefined {
    const existing = this.find(upstream);
    if (existing) return existing;
    if (this.dynamic.size >= this.maxDynamic) {
      this.reportCap(upstream);
      return undefined;
    }

    const breaker = this.create(upstream, this.defaults);
    this.dynamic.set(upstream, breaker);
    this.events.emitAdded({ breaker: upstream });
    return breaker;
  }

  /** The breaker named `name` (an upstream or a scoped id), if it exists. Never creates one. */
  find(name: string): CircuitBreaker | undefined {
    return this.configured.get(name) ?? this.scoped.get(name) ?? this.dynamic.get(name);
  }

  /** The scoped breaker with canonical id `id`, if it is configured. */
  findScoped(id: string): CircuitBreaker | undefined {
    return this.scoped.get(id);
  }

  /** Every breaker, configured, scoped and dynamic, sorted by name. */
  list(): CircuitBreaker[] {
    const all = [...this.configured.values(), ...this.scoped.values(), ...this.dynamic.values()];
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Applies new settings without losing state. Breakers whose names stay
   * configured keep their state under their new settings, as does a dynamic
   * breaker whose name becomes configured (it then stops counting against the
   * cap). Dynamic breakers take the new defaults. Breakers no longer
   * configured are disposed and dropped; a later request makes a fresh
   * dynamic one. A lowered `maxDynamic` only limits new breakers: existing
   * ones are kept rather than lose their state. Scoped breakers follow the
   * same rule by id: kept with new settings, created, or disposed.
   *
   * Everything is validated first, so a `RangeError` leaves the set unchanged.
   */
  reconfigure(
    defaults: BreakerSettings,
    perUpstream: ReadonlyMap<string, BreakerSettings>,
    maxDynamic: number,
    scoped: ReadonlyMap<string, BreakerSettings> = new Map(),
  ): void {
    assertValid(defaults, perUpstream, maxDynamic, scoped);

    this.defaults = defaults;
    if (maxDynamic !== this.maxDynamic) this.capReported = false;
    this.maxDynamic = maxDynamic;
    this.dropUnconfigured(perUpstream);

    for (const [name, settings] of perUpstream) this.configure(name, settings);
    for (const breaker of this.dynamic.values()) breaker.updateSettings(defaults);
    this.reconfigureScoped(scoped);
  }

  /** Disposes every breaker and empties the set. */
  dispose(): void {
    for (const breaker of this.list()) breaker.dispose();

    this.configured.clear();
    this.scoped.clear();
    this.dynamic.clear();
  }

  private reportCap(upstream: string): void {
    if (this.capReported) return;

    this.capReported = true;
    this.events.emitCapReached({ upstream, maxDynamic: this.maxDynamic });
  }

  private create(name: string, settings: BreakerSettings): CircuitBreaker {
    return new CircuitBreaker(name, settings, this.clock, this.events);
  }

  private reconfigureScoped(scoped: ReadonlyMap<string, BreakerSettings>): void {
    for (const [id, breaker] of this.scoped) {
      if (scoped.has(id)) continue;

      breaker.dispose();
      this.scoped.delete(id);
      this.events.emitRemoved({ breaker: id });
    }
    for (const [id, settings] of scoped) {
      const existing = this.scoped.get(id);
      if (existing) {
        existing.updateSettings(settings);
        continue;
      }

      this.scoped.set(id, this.create(id, settings));
      this.events.emitAdded({ breaker: id });
    }
  }

  private dropUnconfigured(perUpstream: ReadonlyMap<string, BreakerSettings>): void {
    for (const [name, breaker] of this.configured) {
      if (perUpstream.has(name)) continue;

      breaker.dispose();
      this.configured.delete(name);
      this.events.emitRemoved({ breaker: name });
    }
  }

  private configure(name: string, settings: BreakerSettings): void {
    const existing = this.configured.get(name) ?? this.dynamic.get(name);
    if (!existing) {
      this.configured.set(name, this.create(name, settings));
      this.events.emitAdded({ breaker: name });
      return;
    }

    existing.updateSettings(settings);
    this.dynamic.delete(name);
    this.configured.set(name, existing);
  }
}

function assertValid(
  defaults: BreakerSettings,
  perUpstream: ReadonlyMap<string, BreakerSettings>,
  maxDynamic: number,
  scoped: ReadonlyMap<string, BreakerSettings>,
): void {
  if (!Number.isInteger(maxDynamic) || maxDynamic < 0) {
    throw new RangeError(`breaker maxDynamic must be an integer of at least 0, got ${maxDynamic}`);
  }

  assertValidBreakerSettings(defaults, 'default breaker');
  for (const [name, settings] of perUpstream) {
    assertValidBreakerSettings(settings, `breaker ${JSON.stringify(name)}`);
  }
  for (const [id, settings] of scoped) {
    assertValidBreakerSettings(settings, `scoped breaker ${JSON.stringify(id)}`);
  }
}
