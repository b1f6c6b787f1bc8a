import type { Clock } from '../time/clock.js';
import type { EndpointInput } from './cluster-evaluation.js';
import { EndpointChecker, type RoundTiming } from './endpoint-checker.js';
import { EndpointHealth, type RoundEffect } from './endpoint-health.js';
import type { ProberFactory } from './endpoint-prober.js';
import { hasChecks, type ClusterHealthConfig, type EndpointConfig } from './health-config.js';
import type { ProbeRound } from './probe-round.js';

/** What a {@link ClusterState} needs from the monitor. */
export interface ClusterStateDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly proberFactory: ProberFactory;
  /** Called after each round has gone through the endpoint's thresholds. */
  readonly onRound: (endpoint: string, round: ProbeRound, effect: RoundEffect) => void;
  /** A prober or round listener threw: a bug, logged by the monitor. */
  readonly onError: (endpoint: string, error: unknown) => void;
}

interface Member {
  readonly health: EndpointHealth;
  checker: EndpointChecker | undefined;
}

/**
 * The endpoints of one cluster, each with its probe state and (when the
 * cluster has checks) its checker. A reload goes through {@link update}:
 * endpoints that stay keep their state and timer; only those whose settings
 * (or CA bundle) changed get a new prober.
 */
export class ClusterState {
  private readonly members = new Map<string, Member>();
  private started = false;

  constructor(
    private current: ClusterHealthConfig,
    private cas: ReadonlyMap<string, Buffer>,
    private readonly deps: ClusterStateDeps,
  ) {
    for (const endpoint of current.endpoints) this.add(endpoint);
  }

  /** The cluster's settings in force. */
  get config(): ClusterHealthConfig {
    return this.current;
  }

  /** Starts every checker. */
  start(): void {
    this.started = true;
    for (const member of this.members.values()) member.checker?.start();
  }

  /** The probe state of every endpoint, in config order, with each breaker state looked up. */
  inputs(breakerState: (key: string) => EndpointInput['breaker']): EndpointInput[] {
    return this.current.endpoints.map((config) => ({
      config,
      probe: this.members.get(config.key)?.health.probe,
      breaker: breakerState(config.key),
    }));
  }

  /** The state of one endpoint, if it is in the cluster. */
  endpoint(key: string): EndpointHealth | undefined {
    return this.members.get(key)?.health;
  }

  /**
   * Applies new settings. Returns the checkers that must be stopped (removed
   * endpoints); the caller awaits them so that a reload never leaves a probe
   * running for an endpoint that is gone.
   */
  update(next: ClusterHealthConfig, cas: ReadonlyMap<string, Buffer>): Promise<void>[] {
    // A reload re-reads the CA bundle: a rotated one must reach the probers
    // even though the config names the same file.
    const caFile = next.checks.tls?.caFile;
    const caChanged = caFile !== undefined && !sameBytes(this.cas.get(caFile), cas.get(caFile));
    const checksChanged = caChanged || !sameJson(this.current.checks, next.checks);
    this.current = next;
    this.cas = cas;

    const keep = new Set(next.endpoints.map((endpoint) => endpoint.key));
    const stopping = [...this.members.entries()]
      .filter(([key]) => !keep.has(key))
      .map(([key, member]) => {
        this.members.delete(key);
        return member.checker?.stop() ?? Promise.resolve();
      });

    for (const endpoint of next.endpoints) {
      const member = this.members.get(endpoint.key);
      if (!member) this.add(endpoint);
      else if (checksChanged || !sameJson(member.health.config, endpoint)) {
        stopping.push(...this.refit(member, endpoint));
      }
    }
    return stopping;
  }

  /** Stops every checker; resolves when no round is running. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.members.values()].map((member) => member.checker?.stop()));
  }

  private add(endpoint: EndpointConfig): void {
    const health = new EndpointHealth(endpoint);
    const member: Member = { health, checker: this.checkerFor(health) };
    this.members.set(endpoint.key, member);
    if (this.started) member.checker?.start();
  }

  private refit(member: Member, endpoint: EndpointConfig): Promise<void>[] {
    member.health.config = endpoint;
    if (!hasChecks(this.current.checks)) {
      const stopped = member.checker?.stop();
      member.checker = undefined;
      member.health.resetProbes();
      return stopped ? [stopped] : [];
    }

    if (!member.checker) {
      member.checker = this.checkerFor(member.health);
      if (this.started) member.checker?.start();
      return [];
    }
    member.checker.update(this.proberFor(member.health), timingOf(this.current));
    return [];
  }

  private checkerFor(health: EndpointHealth): EndpointChecker | undefined {
    if (!hasChecks(this.current.checks)) return undefined;

    const key = health.config.key;
    return new EndpointChecker({
      prober: this.proberFor(health),
      timing: timingOf(this.current),
      clock: this.deps.clock,
      random: this.deps.random,
      onRound: (round) => this.onRound(health, round),
      onError: (error) => this.deps.onError(key, error),
    });
  }

  private proberFor(health: EndpointHealth) {
    const checks = this.current.checks;
    return this.deps.proberFactory({
      endpoint: health.config,
      checks,
      warmth: health.warmth,
      ca: checks.tls?.caFile ? this.cas.get(checks.tls.caFile) : undefined,
      clock: this.deps.clock,
    });
  }

  private onRound(health: EndpointHealth, round: ProbeRound): void {
    const { healthyThreshold, unhealthyThreshold } = this.current.checks;
    const effect = health.record(round, {
      healthy: healthyThreshold,
      unhealthy: unhealthyThreshold,
    });
    this.deps.onRound(health.config.key, round, effect);
  }
}

function timingOf(cluster: ClusterHealthConfig): RoundTiming {
  const { intervalMs, jitterMs, jitterPercent } = cluster.checks;
  return { intervalMs, jitterMs, jitterPercent };
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
