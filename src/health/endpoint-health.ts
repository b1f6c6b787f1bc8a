import { WarmthTracker } from './checks/warmth-detection.js';
import type { EndpointConfig } from './health-config.js';
import { HealthThresholds, type Thresholds } from './health-thresholds.js';
import type { Verdict } from './health-status.js';
import type { ProbeRound } from './probe-round.js';

/** What recording a round changed. */
export interface RoundEffect {
  /** The stable probe verdict before and after the round. */
  readonly before: Verdict | undefined;
  readonly after: Verdict;
  /** Set when the model turned cold or warm with this round. */
  readonly warmth?: { readonly cold: boolean; readonly detail: string };
}

/**
 * The probe state of one endpoint that outlives config reloads: the stable
 * verdict and its threshold streak, the warmth baseline, and the last round.
 */
export class EndpointHealth {
  /** The latency baseline and cold detection of this endpoint. */
  readonly warmth = new WarmthTracker();

  private thresholds = new HealthThresholds();
  private last: ProbeRound | undefined;
  private lastHealthyWallMs: number | undefined;
  private cold = false;

  constructor(
    /** The endpoint's current settings; replaced on reload. */
    public config: EndpointConfig,
  ) {}

  /** The stable probe verdict; undefined before the first round. */
  get probe(): Verdict | undefined {
    return this.thresholds.verdict;
  }

  /** The last round recorded, if any. */
  get lastRound(): ProbeRound | undefined {
    return this.last;
  }

  /** Wall-clock milliseconds of the end of the last round whose verdict was HEALTHY. */
  get lastHealthyAtWallMs(): number | undefined {
    return this.lastHealthyWallMs;
  }

  /** Whether the last warmth reading said cold. */
  get isCold(): boolean {
    return this.cold;
  }

  /** Feeds one round through the thresholds. */
  record(round: ProbeRound, thresholds: Thresholds): RoundEffect {
    const before = this.thresholds.verdict;
    const after = this.thresholds.record(round.verdict, thresholds);
    this.last = round;
    if (round.verdict.status === 'HEALTHY') this.lastHealthyWallMs = round.finishedAtWallMs;

    return { before, after, warmth: this.warmthChange(round) };
  }

  /** Forgets every probe result (the cluster's checks were removed). */
  resetProbes(): void {
    this.thresholds = new HealthThresholds();
    this.last = undefined;
    this.cold = false;
  }

  private warmthChange(round: ProbeRound): RoundEffect['warmth'] {
    const reading = round.warmth;
    if (!reading || reading.kind === 'learning') return undefined;

    const cold = reading.kind === 'cold';
    if (cold === this.cold) return undefined;

    this.cold = cold;
    const detail =
      reading.kind === 'cold'
        ? reading.detail
        : `warm again (baseline ${Math.round(reading.baselineMs)} ms)`;
    return { cold, detail };
  }
}
