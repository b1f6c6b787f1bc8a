import type { Clock } from '../time/clock.js';
import type { Prober } from './endpoint-checker.js';
import type { CheckSettings, EndpointConfig } from './health-config.js';
import { ProbeClient } from './probe-client.js';
import { runProbeRound } from './probe-round.js';
import type { WarmthTracker } from './checks/warmth-detection.js';

/** What a prober of one endpoint is made from. */
export interface ProberInput {
  readonly endpoint: EndpointConfig;
  readonly checks: CheckSettings;
  readonly warmth: WarmthTracker;
  /** The CA bundle of `checks.tls.caFile`, read beforehand. */
  readonly ca?: Buffer;
  readonly clock: Clock;
}

/** Builds the {@link Prober} of one endpoint: its HTTP client and its checks. */
export type ProberFactory = (input: ProberInput) => Prober;

/** The real prober: a keep-alive {@link ProbeClient} and {@link runProbeRound}. */
export const httpProber: ProberFactory = (input) => {
  const client = new ProbeClient({
    endpoint: input.endpoint,
    maxBodyBytes: input.checks.maxBodyBytes,
    headers: input.checks.headers,
    tls: input.checks.tls,
    ca: input.ca,
    clock: input.clock,
  });

  return {
    run: () =>
      runProbeRound({ client, checks: input.checks, warmth: input.warmth, clock: input.clock }),
    close: () => client.close(),
  };
};
