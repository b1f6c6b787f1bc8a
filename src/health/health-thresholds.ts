import { severity, type HealthStatus, type Verdict } from './health-status.js';

/** How many consecutive rounds move an endpoint's status. */
export interface Thresholds {
  /** Consecutive better rounds before the status improves. */
  readonly healthy: number;
  /** Consecutive worse rounds before the status worsens. */
  readonly unhealthy: number;
}

/**
 * Turns the verdicts of single probe rounds into a stable status, as Envoy's
 * health checker does with `healthy_threshold` and `unhealthy_threshold`.
 *
 * The first round is adopted at once. After that, a round with the current
 * status refreshes the reasons; rounds worse (or better) than the current
 * status form a streak, and when the streak is long enough the status moves
 * to the mildest (or, improving, the worst) status every round in the streak
 * agrees on. So HEALTHY followed by UNHEALTHY, DEGRADED, UNHEALTHY with a
 * threshold of 3 becomes DEGRADED: all three rounds were at least that bad.
 */
export class HealthThresholds {
  private current: Verdict | undefined;
  private streak: Verdict[] = [];

  /** The stable verdict; undefined before the first round. */
  get verdict(): Verdict | undefined {
    return this.current;
  }

  /** Records one round and returns the stable verdict after it. */
  record(round: Verdict, thresholds: Thresholds): Verdict {
    const current = this.current;
    if (!current || round.status === current.status) {
      this.streak = [];
      this.current = round;
      return round;
    }

    const worse = severity(round.status) > severity(current.status);
    const sameSide = this.streak.every(
      (past) => severity(past.status) > severity(current.status) === worse,
    );
    this.streak = sameSide ? [...this.streak, round] : [round];

    const needed = worse ? thresholds.unhealthy : thresholds.healthy;
    if (this.streak.length < needed) return current;

    this.current = settle(this.streak, worse);
    this.streak = [];
    return this.current;
  }
}

/** The latest verdict of the streak whose status every round of the streak agrees on. */
function settle(streak: readonly Verdict[], worse: boolean): Verdict {
  const pick = (a: HealthStatus, b: HealthStatus) => (severity(a) < severity(b) === worse ? a : b);
  const target = streak.map((round) => round.status).reduce(pick);

  const latest = [...streak].reverse().find((round) => round.status === target);
  return latest ?? streak[streak.length - 1]!;
}
