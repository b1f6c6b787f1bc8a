import { budgetOf } from './admin-views.js';
import { checkChat, checkHeaders } from './authz-check.js';
import { chatRequest } from './chat-request.js';
import { TRIAL, TRIAL_LIMIT } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';
import { expectForwarded, playExchange, type TollgateAnswer } from './envoy-exchange.js';
import { describeRequest, errorOf, reportAnswered } from './exchange-report.js';
import type { Narrator } from './narrator.js';

const PROMPT = 'Summarise the quarterly report in three short bullet points.';
const MAX_TOKENS = 50;

/** More requests than the trial budget can hold: the loop ends even if nothing is refused. */
const MAX_ATTEMPTS = 8;

/**
 * Step 3: tenant trial spends its small daily budget until tollgate answers
 * 429 itself, then ext_authz denies the same way.
 */
export async function budgetStep(stack: DemoStack, say: Narrator): Promise<void> {
  say.begin(
    3,
    'A budget runs out: 429 with retry-after',
    `Tenant trial may spend ${TRIAL_LIMIT} tokens a day. Each request reserves its estimate`,
    '(prompt tokens + max_tokens) when its body is read, and is charged what the backend',
    'reports; a request that does not fit is answered 429 by tollgate itself.',
  );

  const request = chatRequest(TRIAL, PROMPT, MAX_TOKENS);
  say.paragraph(`${describeRequest(request)}, until refused:`);

  let forwarded = 0;
  let refusal: { answer: TollgateAnswer; backendUntouched: boolean } | undefined;
  while (refusal === undefined && forwarded < MAX_ATTEMPTS) {
    const calls = stack.mock.stats().inferenceRequests;
    const result = await playExchange(stack.extProc, stack.mock.url, request);
    const label = `request ${forwarded + 1}`;
    if (result.kind === 'answered') {
      say.detail(label, `${result.status}, answered by tollgate`);
      reportAnswered(say, result);
      refusal = {
        answer: result,
        backendUntouched: calls === stack.mock.stats().inferenceRequests,
      };
      break;
    }

    const ok = expectForwarded(result);
    forwarded++;
    const budget = await budgetOf(stack, TRIAL);
    const charged = `${ok.usage?.tokens_total ?? '?'} tokens charged`;
    const left = `trial has ${budget.remaining} of ${budget.limit} left`;
    say.detail(label, `${ok.status}, ${charged}; ${left}`);
  }

  say.check(
    refusal !== undefined && forwarded > 0,
    `trial was admitted ${forwarded} times, then refused`,
    await budgetOf(stack, TRIAL),
  );
  checkRefusal(say, refusal!.answer, refusal!.backendUntouched);

  say.paragraph('The same request checked through ext_authz:');
  const denial = await checkChat(stack, TRIAL, PROMPT, MAX_TOKENS);
  const denied = denial.denied_response;
  const headers = checkHeaders(denied?.headers);
  say.detail(
    'answer',
    `denied_response ${denied?.status.code}, retry-after: ${headers['retry-after']}`,
  );
  say.check(
    denied?.status.code === 429 && errorOf(denied.body).code === 'budget_exhausted',
    'ext_authz denies trial with the same 429 and error body',
    denial,
  );
}

function checkRefusal(say: Narrator, answer: TollgateAnswer, backendUntouched: boolean): void {
  const retryAfter = Number(answer.headers['retry-after']);
  const untilMidnight = secondsToNextUtcDay();
  const error = errorOf(answer.body);

  say.check(answer.status === 429, 'tollgate answered 429', answer.status);
  say.check(
    Math.abs(retryAfter - untilMidnight) <= 2,
    `retry-after is the ${retryAfter} s left until the daily budget renews at 00:00 UTC`,
    answer.headers,
  );
  say.check(
    error.type === 'insufficient_quota' && error.code === 'budget_exhausted',
    'the body is an OpenAI-style error (insufficient_quota / budget_exhausted)',
    answer.body,
  );
  say.check(backendUntouched, 'the refused request never reached the backend');
}

function secondsToNextUtcDay(): number {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((next - now.getTime()) / 1000);
}
