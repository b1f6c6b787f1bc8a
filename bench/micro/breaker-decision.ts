import { BreakerSet } from '../../src/breaker/breaker-set.js';
import { defaultBreakerSettings } from '../../src/breaker/breaker-settings.js';

/** Breaker decisions per second, and the cost of one. */
export interface BreakerDecisionResult {
  readonly decisionsPerSecond: number;
  readonly nanosPerDecision: number;
}

/**
 * Times the breaker step of one request as the engine takes it: look up the
 * upstream's breaker, acquire a permit, and settle it with a 200.
 */
export function measureBreakerDecision(minimumMs = 300): BreakerDecisionResult {
  const upstreams = ['llm_backend', 'openai', 'anthropic', 'vllm'];
  const breakers = new BreakerSet({
    defaults: defaultBreakerSettings,
    perUpstream: new Map([['llm_backend', defaultBreakerSettings]]),
    maxDynamic: 256,
  });

  let decisions = 0;
  const started = performance.now();
  try {
    while (performance.now() - started < minimumMs) {
      for (let batch = 0; batch < 1000; batch++) {
        const admission = breakers.get(upstreams[batch & 3]!)?.tryAcquire();
        if (!admission?.admitted) throw new Error('a closed breaker rejected a request');
        admission.permit.recordOutcome(200);
      }
      decisions += 1000;
    }
  } finally {
    breakers.dispose();
  }

  const seconds = (performance.now() - started) / 1000;
  return { decisionsPerSecond: decisions / seconds, nanosPerDecision: (seconds * 1e9) / decisions };
}
