import type { CheckResponse } from '../src/services/ext-authz/messages.js';
import { checkRequest } from '../test/helpers/ext-authz-client.js';
import { chatRequest } from './chat-request.js';
import { UPSTREAM } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';

/**
 * One ext_authz Check for `tenant`'s chat request, as Envoy's ext_authz filter
 * sends it with `with_request_body` and the route's cluster in
 * `context_extensions`.
 */
export function checkChat(
  stack: DemoStack,
  tenant: string,
  prompt: string,
  maxTokens: number,
): Promise<CheckResponse> {
  const body = JSON.stringify(chatRequest(tenant, prompt, maxTokens).body);
  return stack.authz.check(
    checkRequest({
      headers: { 'x-tenant-id': tenant },
      body,
      contextExtensions: { 'xds.cluster_name': UPSTREAM },
    }),
  );
}

/** Header name → value of a Check answer's header options. */
export function checkHeaders(
  options: ReadonlyArray<{ header: { key: string; value?: string } }> | undefined,
): Record<string, string> {
  return Object.fromEntries((options ?? []).map(({ header }) => [header.key, header.value ?? '']));
}

/** The Check's dynamic metadata as plain values. */
export function checkMetadata(response: CheckResponse): Record<string, string | number> {
  const fields = response.dynamic_metadata?.fields ?? {};
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      value.stringValue ?? value.numberValue ?? '',
    ]),
  );
}
