import type { Logger } from 'pino';

import type { BreakerSet } from '../breaker/breaker-set.js';
import type { Unsubscribe } from '../breaker/breaker-events.js';
import { systemClock, type Clock } from '../time/clock.js';
import { evaluateCluster, type ClusterEvaluation } from './cluster-evaluation.js';
import { ClusterState } from './cluster-state.js';
import type { RoundEffect } from './endpoint-health.js';
import { httpProber, type ProberFactory } from './endpoint-prober.js';
import type { ClusterHealthConfig } from './health-config.js';
import { HealthEvents } from './health-events.js';
import type { ProbeRound } from './probe-round.js';
import { readProbeCas, type HealthConfigProblem } from './probe-tls.js';

/** What a {@link HealthMonitor} is built from. */
export interface HealthMonitorOptions {
  readonly logger: Logger;
  /** Breakers named like an endpoint (`address:port`) feed that endpoint's health. */
  readonly breakers?: BreakerSet;
  readonly clock?: Clock;
  /** Jitter source; `Math.random` by default. */
  readonly random?: () => number;
  /** Builds each endpoint's prober; the HTTP prober by default (tests pass fakes). */
  readonly proberFactory?: ProberFactory;
}

/** A cluster set checked and ready to apply, or why it cannot be. */
export type PreparedClusters =
  | { readonly ok: true; apply(): Promise<void> }
  | { readonly ok: false; readonly problems: readonly HealthConfigProblem[] };

/**
 * The health of every configured cluster: each endpoint probed on its own
 * timer, its rounds turned into a stable status, combined with its breaker,
 * and the cluster evaluated into what Envoy should be told
 * ({@link ClusterEvaluation}). Evaluations and changes are published as
 * {@link HealthEvents}; the EDS server, metrics and logs observe them.
 *
 * A cluster is re-evaluated after every round of one of its endpoints, after
 * a transition of a breaker named like one of its endpoints, and after a
 * reload. Evaluations are batched to the end of the current turn, so a burst
 * of breaker transitions evaluates once.
 */
export class HealthMonitor {
  /** Evaluations, status changes, rounds, panic and warmth changes. */
  readonly events = new HealthEvents();

  private readonly clock: Clock;
  private readonly clusters = new Map<string, ClusterState>();
  private readonly evaluations = new Map<string, ClusterEvaluation>();
  private readonly dirty = new Set<string>();
  private readonly stopBreakerFeed: Unsubscribe | undefined;
  private flushQueued = false;
  private started = false;
  private stopped = false;

  constructor(private readonly options: HealthMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    this.stopBreakerFeed = options.breakers?.events.onTransition((event) =>
      this.onBreaker(event.breaker),
    );
  }

  /**
   * Checks a cluster set (the CA bundles it names must be readable) without
   * changing anything; `apply()` then makes it live. Start-up and reload
   * both go through here, so a reload with a bad bundle is refused whole.
   */
  prepare(clusters: readonly ClusterHealthConfig[]): PreparedClusters {
    const cas = readProbeCas(clusters);
    if (!cas.ok) return cas;

    return { ok: true, apply: () => this.configure(clusters, cas.cas) };
  }

  /**
   * {@link prepare} for start-up and reload, where a cluster set that cannot
   * be applied is an error: throws with every problem, changing nothing.
   */
  prepareOrThrow(clusters: readonly ClusterHealthConfig[]): () => Promise<void> {
    const prepared = this.prepare(clusters);
    if (prepared.ok) return () => prepared.apply();

    const list = prepared.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw new Error(`the clusters cannot be applied: ${list.join('; ')}`);
  }

  /** Starts probing every endpoint. */
  start(): void {
    if (this.started || this.stopped) return;

    this.started = true;
    for (const cluster of this.clusters.values()) cluster.start();
  }

  /** The latest evaluation of a cluster; undefined for a name not configured. */
  evaluation(cluster: string): ClusterEvaluation | undefined {
    return this.evaluations.get(cluster);
  }

  /** Every configured cluster's latest evaluation, in config order. */
  allEvaluations(): ClusterEvaluation[] {
    return [...this.clusters.keys()].flatMap((name) => this.evaluations.get(name) ?? []);
  }

  /** The configured cluster named `name`, with its endpoints' probe state. */
  cluster(name: string): ClusterState | undefined {
    return this.clusters.get(name);
  }

  /** Stops every checker and the breaker feed; resolves when no probe is running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopBreakerFeed?.();
    await Promise.all([...this.clusters.values()].map((cluster) => cluster.stop()));
  }

  private async configure(
    clusters: readonly ClusterHealthConfig[],
    cas: ReadonlyMap<string, Buffer>,
  ): Promise<void> {
    const next = new Map(clusters.map((cluster) => [cluster.name, cluster]));
    const touched = new Set<string>();
    const stopping: Promise<void>[] = [];

    for (const [name, state] of this.clusters) {
      if (next.has(name)) continue;
      this.clusters.delete(name);
      this.evaluations.delete(name);
      stopping.push(state.stop());
      touched.add(name);
    }

    for (const config of clusters) {
      const state = this.clusters.get(config.name);
      if (state) stopping.push(...state.update(config, cas));
      else this.clusters.set(config.name, this.createCluster(config, cas));
      touched.add(config.name);
    }

    for (const name of next.keys()) this.evaluate(name);
    this.events.clustersChanged.emit({ names: [...touched] });
    await Promise.all(stopping);
  }

  private createCluster(
    config: ClusterHealthConfig,
    cas: ReadonlyMap<string, Buffer>,
  ): ClusterState {
    const name = config.name;
    const state = new ClusterState(config, cas, {
      clock: this.clock,
      random: this.options.random ?? Math.random,
      proberFactory: this.options.proberFactory ?? httpProber,
      onRound: (endpoint, round, effect) => this.onRound(name, endpoint, round, effect),
      onError: (endpoint, error) =>
        this.options.logger.error(
          { err: error, cluster: name, endpoint },
          'a probe round failed inside tollgate; the endpoint keeps its status and is ' +
            'probed again',
        ),
    });
    if (this.started && !this.stopped) state.start();
    return state;
  }

  private onRound(cluster: string, endpoint: string, round: ProbeRound, effect: RoundEffect) {
    this.events.roundFinished.emit({ cluster, endpoint, round });
    if (effect.warmth) this.events.warmthChanged.emit({ cluster, endpoint, ...effect.warmth });
    this.markDirty(cluster);
  }

  private onBreaker(name: string): void {
    for (const [cluster, state] of this.clusters) {
      if (state.endpoint(name)) this.markDirty(cluster);
    }
  }

  private markDirty(cluster: string): void {
    this.dirty.add(cluster);
    if (this.flushQueued) return;

    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    // Reading a breaker's state can move it (an elapsed open timeout), which
    // marks its cluster dirty again: loop until nothing is left.
    while (this.dirty.size > 0) {
      const [name] = this.dirty;
      this.dirty.delete(name!);
      this.evaluate(name!);
    }
  }

  private evaluate(name: string): void {
    const state = this.clusters.get(name);
    if (!state) return;

    const breakers = this.options.breakers;
    const inputs = state.inputs((key) => breakers?.find(key)?.state().kind);
    const evaluation = evaluateCluster(state.config, inputs);
    const previous = this.evaluations.get(name);
    this.evaluations.set(name, evaluation);

    this.announceChanges(state.config, previous, evaluation);
    this.events.evaluated.emit(evaluation);
  }

  private announceChanges(
    config: ClusterHealthConfig,
    previous: ClusterEvaluation | undefined,
    next: ClusterEvaluation,
  ): void {
    const before = new Map(previous?.endpoints.map((e) => [e.config.key, e.status]));
    for (const endpoint of next.endpoints) {
      const from = before.get(endpoint.config.key);
      if (from === endpoint.status) continue;

      this.events.statusChanged.emit({
        cluster: next.cluster,
        endpoint: endpoint.config.key,
        from,
        to: endpoint.status,
        reasons: endpoint.reasons,
      });
    }

    const wasBelow = new Map(previous?.panic.map((level) => [level.priority, level.below]));
    for (const level of next.panic) {
      if ((wasBelow.get(level.priority) ?? false) === level.below) continue;

      this.events.panicChanged.emit({
        cluster: next.cluster,
        thresholdPercent: config.panicThresholdPercent,
        ...level,
      });
    }
  }
}
