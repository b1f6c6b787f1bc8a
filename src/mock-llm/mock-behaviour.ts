import type { Clock } from '../time/clock.js';
import { applyControl, type MockLlmControl, type MockLlmSettings } from './mock-llm-settings.js';

/** What happens to one inference request. */
export type Admission =
  | { readonly kind: 'unknown_model' }
  | { readonly kind: 'loading' }
  | {
      readonly kind: 'fail';
      readonly status: number;
      readonly delayMs: number;
      readonly cold: boolean;
    }
  | { readonly kind: 'serve'; readonly delayMs: number; readonly cold: boolean };

/** Counters since start (or the last reset). */
export interface MockLlmStats {
  /** Inference requests received (chat, completions, messages). */
  readonly inferenceRequests: number;
  /** Of those, answered with an injected failure status. */
  readonly failures: number;
  /** Of those, slowed by a cold start. */
  readonly coldStarts: number;
  /** Inference requests being answered now. */
  readonly inFlight: number;
}

/**
 * The mock's state machine: current settings, cold/warm, requests in flight,
 * and the seeded random source behind `failure_rate` (so a run with the same
 * seed fails the same requests).
 */
export class MockBehaviour {
  private current: MockLlmSettings;
  private random: () => number;
  private lastActivityMs: number | undefined;
  private inFlight = 0;
  private counts = { inferenceRequests: 0, failures: 0, coldStarts: 0 };

  constructor(
    private readonly initial: MockLlmSettings,
    private readonly clock: Clock,
    private readonly seed: number,
  ) {
    this.current = initial;
    this.random = seededRandom(seed);
  }

  /** The settings in force. */
  get settings(): MockLlmSettings {
    return this.current;
  }

  /** Applies a validated control patch. */
  control(patch: MockLlmControl): MockLlmSettings {
    this.current = applyControl(this.current, patch);
    return this.current;
  }

  /** Back to the start: initial settings, cold again, counters and random source reset. */
  reset(): void {
    this.current = this.initial;
    this.random = seededRandom(this.seed);
    this.lastActivityMs = undefined;
    this.counts = { inferenceRequests: 0, failures: 0, coldStarts: 0 };
  }

  /** The reported queue depth: the configured depth plus the requests in flight. */
  queueDepth(): number {
    return this.current.queueDepth + this.inFlight;
  }

  /** Counters since start. */
  stats(): MockLlmStats {
    return { ...this.counts, inFlight: this.inFlight };
  }

  /**
   * Decides an inference request's fate on arrival. A served or failed
   * request is in flight until {@link finish}; the first one after
   * `idle_timeout_ms` without activity (or ever) is a cold start.
   */
  admit(model: string): Admission {
    const status = this.current.models.get(model);
    if (status === undefined) return { kind: 'unknown_model' };
    if (status === 'loading') return { kind: 'loading' };

    this.counts.inferenceRequests++;
    const cold = this.takeColdStart();
    const delayMs = this.current.latencyMs + (cold ? this.current.coldStartMs : 0);
    this.inFlight++;

    if (this.takeFailure()) {
      this.counts.failures++;
      return { kind: 'fail', status: this.current.failureStatus, delayMs, cold };
    }
    return { kind: 'serve', delayMs, cold };
  }

  /** An admitted request has been answered (or its client left). */
  finish(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastActivityMs = this.clock.monotonicMs();
  }

  private takeColdStart(): boolean {
    const now = this.clock.monotonicMs();
    const idle =
      this.inFlight === 0 &&
      (this.lastActivityMs === undefined ||
        now - this.lastActivityMs >= this.current.idleTimeoutMs);
    this.lastActivityMs = now;

    const cold = idle && this.current.coldStartMs > 0;
    if (cold) this.counts.coldStarts++;
    return cold;
  }

  private takeFailure(): boolean {
    if (this.current.failNext > 0) {
      this.current = { ...this.current, failNext: this.current.failNext - 1 };
      return true;
    }
    return this.current.failureRate > 0 && this.random() < this.current.failureRate;
  }
}

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
