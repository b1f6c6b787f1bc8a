import type { PolicyAnswer } from '../../engine/policy-answer.js';
import { headerMutation } from './header-map.js';
import type { ProcessingResponse } from './messages.js';

/** Renders a policy answer as the ext_proc message that makes Envoy reply with it. */
export function immediateResponse(answer: PolicyAnswer): ProcessingResponse {
  return {
    immediate_response: {
      status: { code: answer.status },
      headers: headerMutation(answer.headers),
      body: Buffer.from(JSON.stringify(answer.body)),
      details: answer.details,
    },
  };
}
