import type { Clock, TimerHandle } from '../time/clock.js';
import type { ProbeRound } from './probe-round.js';

/** When rounds run. */
export interface RoundTiming {
  /** From the end of one round to the start of the next. */
  readonly intervalMs: number;
  /** Random extra delay up to this much. */
  readonly jitterMs: number;
  /** Random extra delay up to this percentage of `intervalMs`. */
  readonly jitterPercent: number;
}

/** Runs one round of one endpoint's checks, and closes what it holds when replaced. */
export interface Prober {
  run(): Promise<ProbeRound>;
  close(): Promise<void>;
}

/** What an {@link EndpointChecker} is built from. */
export interface EndpointCheckerOptions {
  readonly prober: Prober;
  readonly timing: RoundTiming;
  readonly clock: Clock;
  /** Numbers in [0, 1) for the jitter; `Math.random` in production. */
  readonly random: () => number;
  /** Receives every round that finished under the current prober. */
  readonly onRound: (round: ProbeRound) => void;
  /** A prober that threw (a bug: rounds report failures as values); the loop goes on. */
  readonly onError: (error: unknown) => void;
}

/**
 * The timer loop of one endpoint. A round starts only after the previous one
 * has finished (two probes never overlap on one endpoint) and the next is
 * scheduled from its end, `intervalMs` plus jitter later. Each endpoint has
 * its own checker, so endpoints are probed concurrently, and nothing here
 * runs on the request path.
 *
 * The first round starts after a random part of the jitter, so that the
 * endpoints of a freshly started tollgate are not all probed in the same
 * millisecond.
 */
export class EndpointChecker {
  private prober: Prober;
  private timing: RoundTiming;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private generation = 0;
  private stopped = false;
  private started = false;

  constructor(private readonly options: EndpointCheckerOptions) {
    this.prober = options.prober;
    this.timing = options.timing;
  }

  /** Whether a round is in flight. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Schedules the first round. Calling it again does nothing. */
  start(): void {
    if (this.started || this.stopped) return;

    this.started = true;
    this.scheduleIn(this.jitterMs());
  }

  /**
   * Swaps in a new prober and timing (a config reload). A round in flight
   * finishes, but its result is dropped because it probed with the old
   * settings; the old prober is closed once nothing uses it.
   */
  update(prober: Prober, timing: RoundTiming): void {
    const old = this.prober;
    this.prober = prober;
    this.timing = timing;
    this.generation += 1;

    if (this.running) {
      void this.running.then(() => old.close());
      return;
    }

    void old.close();
    if (this.started && !this.stopped) this.scheduleIn(this.nextDelayMs());
  }

  /**
   * Stops the loop. The prober is closed at once, which cuts a request in
   * flight: shutdown and the removal of an endpoint must not wait out a probe
   * timeout (a backend that hangs would hold them for the whole of it). The
   * round then ends and its result is dropped; this resolves after that.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;

    const closing = this.prober.close();
    await this.running;
    await closing;
  }

  private scheduleIn(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.options.clock.schedule(delayMs, () => {
      this.timer = undefined;
      this.running = this.runRound();
    });
  }

  private async runRound(): Promise<void> {
    const generation = this.generation;
    const round = await this.prober.run().catch((error: unknown) => {
      this.options.onError(error);
      return undefined;
    });
    this.running = undefined;
    if (this.stopped) return;

    const current = generation === this.generation;
    if (current && round) this.deliver(round);
    this.scheduleIn(current ? this.nextDelayMs() : 0);
  }

  private deliver(round: ProbeRound): void {
    try {
      this.options.onRound(round);
    } catch (error) {
      this.options.onError(error);
    }
  }

  private nextDelayMs(): number {
    return this.timing.intervalMs + this.jitterMs();
  }

  private jitterMs(): number {
    const { intervalMs, jitterMs, jitterPercent } = this.timing;
    const spread = jitterMs + (intervalMs * jitterPercent) / 100;
    return Math.floor(this.options.random() * spread);
  }
}
