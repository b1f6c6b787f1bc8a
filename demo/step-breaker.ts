import { sampleValue } from '../test/helpers/metrics.js';
import { breakerOf, type BreakerStatus } from './admin-views.js';
import { chatRequest } from './chat-request.js';
import { ACME, BREAKER, UPSTREAM } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';
import { expectAnswered, expectForwarded, playExchange } from './envoy-exchange.js';
import { errorOf, reportAnswered } from './exchange-report.js';
import { DemoCheckFailed, type Narrator } from './narrator.js';

const PROMPT = 'Is the backend up?';
const TRANSITIONS = [
  ['closed', 'open'],
  ['open', 'half_open'],
  ['half_open', 'closed'],
] as const;

/**
 * Step 4: the backend fails every request, the breaker opens after three
 * failures and tollgate answers 503 without calling it; once the backend is
 * well and the timeout has passed, one trial request closes the breaker.
 */
export async function breakerStep(stack: DemoStack, say: Narrator): Promise<void> {
  say.begin(
    4,
    'A backend fails: the breaker opens, answers 503, and recovers',
    `The breaker of ${UPSTREAM} opens after ${BREAKER.failureThreshold} failed (5xx) responses`,
    `in a row and stays open ${BREAKER.timeoutSeconds} s; then one trial request is let through,`,
    'and its success closes it.',
  );
  const request = chatRequest(ACME, PROMPT, 8);

  say.paragraph('The backend starts failing: POST /control {"failure_rate": 1}');
  await stack.controlMock({ failure_rate: 1 });
  for (let attempt = 1; attempt <= BREAKER.failureThreshold; attempt++) {
    const failed = expectForwarded(await playExchange(stack.extProc, stack.mock.url, request));
    const breaker = await breakerOf(stack, UPSTREAM);
    say.detail(`request ${attempt}`, `backend ${failed.status}; ${describeBreaker(breaker)}`);
  }
  const opened = await breakerOf(stack, UPSTREAM);
  say.check(
    opened.state === 'open',
    `the breaker is open after ${BREAKER.failureThreshold} failures`,
    opened,
  );

  const calls = stack.mock.stats().inferenceRequests;
  const answer = expectAnswered(await playExchange(stack.extProc, stack.mock.url, request));
  say.detail(
    `request ${BREAKER.failureThreshold + 1}`,
    'answered by tollgate while the breaker is open',
  );
  reportAnswered(say, answer);
  say.check(
    answer.status === 503 && Number(answer.headers['retry-after']) >= 1,
    'tollgate answered 503 with retry-after',
    answer,
  );
  say.check(errorOf(answer.body).type === 'circuit_open', 'the JSON error names the open circuit');
  say.check(
    stack.mock.stats().inferenceRequests === calls,
    'the backend was not called',
    stack.mock.stats(),
  );

  say.paragraph(`The backend recovers: POST /control {"failure_rate": 0}; waiting out the timeout`);
  await stack.controlMock({ failure_rate: 0 });
  const started = Date.now();
  const halfOpen = await waitForState(stack, 'half_open', BREAKER.timeoutSeconds * 1000 + 3000);
  const waited = ((Date.now() - started) / 1000).toFixed(1);
  say.detail('after', `${waited} s: ${describeBreaker(halfOpen)}`);

  const trial = expectForwarded(await playExchange(stack.extProc, stack.mock.url, request));
  const closed = await breakerOf(stack, UPSTREAM);
  say.detail('trial', `backend ${trial.status}; ${describeBreaker(closed)}`);
  say.check(
    trial.status === 200,
    'the trial request reached the backend and succeeded',
    trial.status,
  );
  say.check(closed.state === 'closed', 'the breaker is closed again', closed);

  const metrics = await stack.metrics();
  const counts = TRANSITIONS.map(([from, to]) => {
    const labels = { breaker: UPSTREAM, from, to };
    return sampleValue(metrics, 'tollgate_breaker_transitions_total', labels) ?? 0;
  });
  const shown = TRANSITIONS.map(([from, to], index) => `${from}->${to} ${counts[index]}`);
  say.detail('metrics', `tollgate_breaker_transitions_total: ${shown.join(', ')}`);
  say.check(
    counts.every((count) => count === 1),
    'the metrics counted each transition once',
    shown,
  );
}

function describeBreaker(breaker: BreakerStatus): string {
  if (breaker.state === 'closed') {
    return `breaker CLOSED, failures in a row: ${breaker.consecutiveFailures}`;
  }
  if (breaker.state === 'half_open') return 'breaker HALF_OPEN: the next request is a trial';

  const seconds = ((breaker.reopensInMs ?? 0) / 1000).toFixed(1);
  return `breaker OPEN: tollgate answers for the backend, trials in ${seconds} s`;
}

async function waitForState(
  stack: DemoStack,
  state: BreakerStatus['state'],
  timeoutMs: number,
): Promise<BreakerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const breaker = await breakerOf(stack, UPSTREAM);
    if (breaker.state === state) return breaker;
    if (Date.now() > deadline) {
      throw new DemoCheckFailed(
        `the breaker is still ${breaker.state} after ${timeoutMs} ms, not ${state}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
