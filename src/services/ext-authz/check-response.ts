import { status } from '@grpc/grpc-js';

import type { Precheck } from '../../engine/decision-engine.js';
import type { PolicyAnswer } from '../../engine/policy-answer.js';
import { scalarStruct } from '../proto-struct.js';
import type { AuthzHeaderOption, CheckResponse } from './messages.js';

/** The upstream request header naming the tenant a request is charged to. */
export const TENANT_HEADER = 'x-tollgate-tenant';

/**
 * Renders the engine's precheck as Envoy's ext_authz expects it.
 *
 * Allowed: status OK and an `ok_response` adding the tenant and the
 * remaining-budget header to the upstream request. Denied: the same status,
 * headers and JSON body as ext_proc's immediate response, in a
 * `denied_response`, with a gRPC status that names the reason. Both carry
 * dynamic metadata (tenant, decision, remaining budget) that Envoy files
 * under `envoy.filters.http.ext_authz`, for its access log and later filters.
 */
export function checkResponse(precheck: Precheck): CheckResponse {
  if (precheck.kind === 'deny') return denied(precheck.answer, precheck.tenant);

  const headers: Array<readonly [string, string]> = [...precheck.headers];
  if (precheck.tenant !== undefined) headers.unshift([TENANT_HEADER, precheck.tenant]);
  return {
    status: { code: status.OK },
    ok_response: { headers: headers.map(headerOption) },
    dynamic_metadata: scalarStruct({
      tenant: precheck.tenant,
      decision: 'allow',
      budget_remaining: precheck.remaining,
    }),
  };
}

function denied(answer: PolicyAnswer, tenant: string | undefined): CheckResponse {
  const decision = answer.details.replace(/^tollgate_/, '');
  return {
    status: { code: grpcStatusFor(answer.status), message: decision },
    denied_response: {
      status: { code: answer.status },
      headers: answer.headers.map(headerOption),
      body: JSON.stringify(answer.body),
    },
    dynamic_metadata: scalarStruct({ tenant, decision }),
  };
}

// Envoy uses denied_response.status for the client; the gRPC status only
// needs to be non-OK, but a precise one reads better in Envoy's debug logs.
function grpcStatusFor(httpStatus: number): number {
  if (httpStatus === 401) return status.UNAUTHENTICATED;
  if (httpStatus === 429) return status.RESOURCE_EXHAUSTED;
  if (httpStatus === 503) return status.UNAVAILABLE;
  return status.PERMISSION_DENIED;
}

// ext_authz reads `value` (ext_proc reads `raw_value`); policy headers are ASCII.
function headerOption([key, value]: readonly [string, string]): AuthzHeaderOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}
