import { budgetOf } from './admin-views.js';
import { checkChat, checkHeaders, checkMetadata } from './authz-check.js';
import { ACME } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';
import type { Narrator } from './narrator.js';

/**
 * Step 2: an ext_authz Check for acme. The same decision engine answers
 * before Envoy reads the body, and a Check reserves nothing.
 */
export async function authzStep(stack: DemoStack, say: Narrator): Promise<void> {
  say.begin(
    2,
    'ext_authz: the same decision before the body is read',
    "An Envoy with the ext_authz filter asks Authorization/Check first. tollgate's",
    'engine answers it as it answers ext_proc; a Check only looks, it reserves nothing.',
  );

  const before = await budgetOf(stack, ACME);
  say.paragraph(`Check for acme (body sent with with_request_body, max_tokens 200)`);
  const response = await checkChat(stack, ACME, 'Is the budget enough for this?', 200);
  const headers = checkHeaders(response.ok_response?.headers);
  const metadata = checkMetadata(response);
  const after = await budgetOf(stack, ACME);

  say.detail('answer', response.ok_response ? 'ok_response (allow)' : 'denied_response');
  const added = Object.entries(headers).map(([key, value]) => `${key}: ${value}`);
  const values = Object.entries(metadata).map(([key, value]) => `${key}=${value}`);
  say.detail('headers', added.join(', '));
  say.detail('metadata', `envoy.filters.http.ext_authz: ${values.join(' ')}`);
  say.detail(
    'budget',
    `acme has used ${after.used} of ${after.limit} tokens, reserved ${after.reserved}`,
  );

  say.check(
    response.status.code === 0 && response.ok_response !== undefined,
    'acme is allowed',
    response,
  );
  const remaining = Number(headers['x-tollgate-budget-remaining']);
  say.check(
    headers['x-tollgate-tenant'] === ACME && remaining > 0 && remaining <= after.remaining,
    `the upstream request gets x-tollgate-tenant and x-tollgate-budget-remaining (${remaining})`,
    headers,
  );
  say.check(
    metadata.decision === 'allow' && metadata.budget_remaining === remaining,
    'the dynamic metadata says decision=allow with the remaining budget',
    metadata,
  );
  say.check(
    after.used === before.used && after.reserved === before.reserved,
    'the Check reserved and charged nothing',
    { before, after },
  );
}
