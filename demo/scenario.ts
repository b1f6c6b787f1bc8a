import { BREAKER, TRIAL_LIMIT } from './demo-config.js';
import { DemoStack } from './demo-stack.js';
import { Narrator } from './narrator.js';
import { authzStep } from './step-authz.js';
import { breakerStep } from './step-breaker.js';
import { budgetStep } from './step-budget.js';
import { edsStep } from './step-eds.js';
import { usageStep } from './step-usage.js';

/** One step of the scenario: it narrates itself and throws when a fact does not hold. */
export type DemoStep = (stack: DemoStack, say: Narrator) => Promise<void>;

/** Every step, in the order they are told. */
export const DEMO_STEPS: readonly DemoStep[] = [
  usageStep,
  authzStep,
  budgetStep,
  breakerStep,
  edsStep,
];

/** Where the demo writes: the story, and the failure report. */
export interface DemoOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** How a whole run ended. */
export type DemoResult = { ok: true; seconds: number } | { ok: false; reason: string };

/** The whole run's limit: the scenario takes seconds; a hang must not last forever. */
const RUN_TIMEOUT_MS = 45_000;
const LOG_LINES_ON_FAILURE = 15;

/**
 * Starts the mock backend and tollgate, plays `steps` as Envoy would and
 * stops everything; tollgate must exit 0 after its drain. A step that fails
 * stops the run: the reason and tollgate's last log lines go to `err`.
 */
export async function runDemo(
  output: DemoOutput,
  steps: readonly DemoStep[] = DEMO_STEPS,
): Promise<DemoResult> {
  const started = Date.now();
  const say = new Narrator(output.out);

  let stack: DemoStack;
  try {
    stack = await DemoStack.start();
  } catch (error) {
    return fail(output, `could not start: ${messageOf(error)}`);
  }
  introduce(say, stack);

  try {
    await withDeadline(playSteps(stack, say, steps), RUN_TIMEOUT_MS);
  } catch (error) {
    const where = say.step ? `step ${say.step}: ` : '';
    const tail = stack.logTail(LOG_LINES_ON_FAILURE);
    await stack.abort();
    return fail(output, `${where}${messageOf(error)}`, tail);
  }

  say.line();
  say.line('Stopping: SIGTERM to tollgate, which drains its streams and exits.');
  const exit = await stack.stop();
  if (exit.code !== 0) {
    return fail(output, `tollgate exited with ${exit.code ?? exit.signal} after SIGTERM, not 0`);
  }

  const seconds = (Date.now() - started) / 1000;
  say.line(`Done in ${seconds.toFixed(1)} s: every step behaved as expected; tollgate exited 0.`);
  return { ok: true, seconds };
}

async function playSteps(stack: DemoStack, say: Narrator, steps: readonly DemoStep[]) {
  for (const step of steps) await step(stack, say);
}

function introduce(say: Narrator, stack: DemoStack): void {
  const { grpcPort, adminPort } = stack.tollgate;
  say.title("tollgate demo: this process plays Envoy's part against a real tollgate process");
  say.detail('backends', `${stack.mock.url} (takes the requests) and ${stack.spare.url}`);
  say.detail('', 'two mock OpenAI-compatible LLMs in this process: the cluster llm_backend');
  say.detail('tollgate', `gRPC 127.0.0.1:${grpcPort} (ext_proc, ext_authz, EDS)`);
  say.detail('admin', `http://127.0.0.1:${adminPort} (/status, /metrics, /budgets, /health)`);
  say.detail('config', stack.configFile);
  say.detail(
    '',
    `breaker: ${BREAKER.failureThreshold} failures, ${BREAKER.timeoutSeconds} s open; ` +
      `budgets: acme 1,000,000 and trial ${TRIAL_LIMIT} tokens a day`,
  );
}

function fail(output: DemoOutput, reason: string, logTail: readonly string[] = []): DemoResult {
  output.err('');
  output.err(`demo FAILED: ${reason}`);
  if (logTail.length > 0) {
    output.err(`tollgate's last ${logTail.length} log lines:`);
    for (const line of logTail) output.err(`  ${line}`);
  }
  return { ok: false, reason };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the scenario did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
