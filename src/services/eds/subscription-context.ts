import type { Logger } from 'pino';

import type { AssignmentResource, AssignmentStore } from './assignment-store.js';
import type { EdsMetrics } from './eds-metrics.js';
import type { RequestReply } from './response-ledger.js';

/** What a subscription of one stream works with. */
export interface SubscriptionContext {
  readonly store: AssignmentStore;
  readonly metrics: EdsMetrics;
  /** A child logger naming the stream, its peer and its node. */
  readonly logger: Logger;
}

/**
 * Logs and counts what a request says about earlier responses. A NACK is a
 * warning with the client's error detail and what the rejected response
 * carried; nothing is resent for it, so a client that rejects a version is
 * not sent that version again in a loop, only the next version. ACKs, and
 * requests whose nonce is stale, are debug lines: apart from a subscription
 * change (which the caller always applies) they change nothing.
 */
export function noteReply(reply: RequestReply, context: SubscriptionContext): void {
  if (reply.kind === 'none') return;

  const resources = reply.sent?.resources.map(({ name, version }) => `${name}@${version}`) ?? [];
  const fields = { nonce: reply.nonce, stale: reply.stale, resources };
  if (reply.kind === 'ack') {
    const what = reply.stale ? 'ignoring an ACK with a stale nonce' : 'ACK';
    context.logger.debug(fields, what);
    return;
  }

  for (const { name } of reply.sent?.resources ?? []) {
    context.metrics.nacked(name, context.store.resource(name).known);
  }
  context.logger.warn(
    { ...fields, errorCode: reply.error?.code, errorDetail: reply.error?.message },
    `the client rejected (NACK) ${resources.join(', ') || 'a response'}: ` +
      `${reply.error?.message || 'no detail given'}; it keeps its previous version, and ` +
      'tollgate sends the cluster again only when its endpoints change',
  );
}

/** Warns, once per stream and name, that a client asked for a cluster tollgate does not have. */
export function warnIfUnknown(
  resource: AssignmentResource,
  warned: Set<string>,
  context: SubscriptionContext,
): void {
  if (resource.known || warned.has(resource.name)) return;

  warned.add(resource.name);
  context.logger.warn(
    { cluster: resource.name },
    `a client asked for cluster "${resource.name}", which is not under clusters: in the ` +
      'tollgate config; it gets an empty ClusterLoadAssignment (no endpoints) so that it does ' +
      'not wait for one. Add the cluster, or fix the name in Envoy ' +
      '(eds_cluster_config.service_name)',
  );
}

/**
 * Names a client subscribes to, without the wildcard: EDS has no wildcard
 * subscription (Envoy always names its clusters), so `*` is dropped.
 */
export function concreteNames(names: readonly string[] | undefined): string[] {
  return (names ?? []).filter((name) => name !== '*' && name !== '');
}
