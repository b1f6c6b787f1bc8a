import type { ResponseMode } from './envoy-exchange.js';

/** What one invocation of the load bench measures, and for how long. */
export interface BenchPlan {
  readonly modes: readonly ResponseMode[];
  readonly concurrencies: readonly number[];
  /** Measured runs per server and cell; the table shows each figure's median. */
  readonly runs: number;
  readonly runSeconds: number;
  /** Load per server and mode before measuring, so the JIT has settled. */
  readonly warmupSeconds: number;
  /** Configuration names (files in `bench/configs/`) to measure; all when absent. */
  readonly configs?: readonly string[];
}

/** `npm run bench`: every configuration, both modes, concurrency 1, 16 and 64. */
export const FULL_PLAN: BenchPlan = {
  modes: ['json', 'sse'],
  concurrencies: [1, 16, 64],
  runs: 5,
  runSeconds: 1,
  warmupSeconds: 1,
};

/** `npm run bench:smoke`: a few seconds, to show the harness works. */
export const SMOKE_PLAN: BenchPlan = {
  modes: ['json'],
  concurrencies: [4],
  runs: 1,
  runSeconds: 1,
  warmupSeconds: 0.2,
  configs: ['breakers'],
};

/** Rough wall time of a plan for `serverCount` servers (start-up not included). */
export function plannedSeconds(plan: BenchPlan, serverCount: number): number {
  const cells = plan.modes.length * plan.concurrencies.length;
  const measuring = cells * plan.runs * plan.runSeconds * serverCount;
  return measuring + plan.modes.length * plan.warmupSeconds * serverCount;
}
