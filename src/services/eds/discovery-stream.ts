import { randomBytes } from 'node:crypto';

import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';

import type { Unsubscribe } from '../../health/event-channel.js';
import type { AssignmentStore } from './assignment-store.js';
import { CLA_TYPE_URL, type XdsNode } from './discovery-messages.js';
import type { EdsMetrics } from './eds-metrics.js';
import { endWithStatus, type StreamRegistry } from './stream-registry.js';
import type { SubscriptionContext } from './subscription-context.js';

/** What every discovery stream shares. */
export interface StreamDeps {
  readonly store: AssignmentStore;
  readonly metrics: EdsMetrics;
  readonly logger: Logger;
  readonly registry: StreamRegistry;
}

/** The CLA subscriptions of one stream, state of the world or incremental. */
export interface Subscription<Req> {
  readonly size: number;
  handle(request: Req): void;
  changed(names: readonly string[]): void;
}

/** How one kind of stream is served. */
export interface StreamKind<Req, Res> {
  /** `eds-sotw`, `eds-delta`, `ads-sotw` or `ads-delta`, for logs. */
  readonly api: string;
  readonly create: (
    context: SubscriptionContext,
    send: (response: Res) => void,
  ) => Subscription<Req>;
}

type Request = { readonly node?: XdsNode; readonly type_url?: string };

/**
 * Serves one discovery stream: receives requests, hands the
 * ClusterLoadAssignment ones to the stream's subscription, and forwards
 * store changes to it. Requests for other resource types (on ADS) are not
 * answered, with one warning per type, since tollgate serves endpoints only.
 *
 * A client half-close ends the stream OK; a cancel just cleans up; a bug
 * while handling a request ends it INTERNAL with an error log.
 */
export function serveDiscoveryStream<Req extends Request, Res>(
  call: ServerDuplexStream<Req, Res>,
  kind: StreamKind<Req, Res>,
  deps: StreamDeps,
): void {
  const id = randomBytes(4).toString('hex');
  let logger = deps.logger.child({ stream: id, api: kind.api, peer: call.getPeer() });
  let subscription: Subscription<Req> | undefined;
  let stopWatching: Unsubscribe | undefined;
  let ended = false;
  let named = false;
  const ignoredTypes = new Set<string>();

  const finish = () => {
    if (ended) return;
    ended = true;
    stopWatching?.();
    deps.registry.delete(stream);
    logger.info('discovery stream closed');
  };
  const stream = {
    get subscribed() {
      return subscription?.size ?? 0;
    },
    close(code: status, details: string) {
      if (ended) return;
      finish();
      endWithStatus(call as ServerDuplexStream<unknown, unknown>, code, details);
    },
  };
  if (!deps.registry.add(stream)) {
    endWithStatus(
      call as ServerDuplexStream<unknown, unknown>,
      status.UNAVAILABLE,
      'tollgate is shutting down',
    );
    return;
  }

  const send = (response: Res) => {
    if (!ended) call.write(response);
  };
  // Envoy sends the node on the first request of a stream only, and on ADS
  // that request is usually for another type (clusters): name the stream
  // after it whatever its type.
  const opened = (node: XdsNode | undefined) => {
    named = true;
    logger = logger.child({ node: node?.id, nodeCluster: node?.cluster });
    logger.info('discovery stream opened');
  };
  const start = () => {
    const created = kind.create({ store: deps.store, metrics: deps.metrics, logger }, send);
    stopWatching = deps.store.onChange((names) => created.changed(names));
    return created;
  };

  call.on('data', (request: Req) => {
    if (ended) return;
    try {
      if (!named) opened(request.node);

      const type = request.type_url || CLA_TYPE_URL;
      if (type !== CLA_TYPE_URL) return ignoreType(type);

      subscription ??= start();
      subscription.handle(request);
    } catch (error) {
      const what = 'a discovery request failed inside tollgate; ending the stream';
      logger.error({ err: error }, what);
      stream.close(status.INTERNAL, 'tollgate failed to handle the request; see its log');
    }
  });
  call.on('end', () => {
    finish();
    call.end();
  });
  call.on('cancelled', finish);
  call.on('error', finish);

  function ignoreType(type: string): void {
    if (ignoredTypes.has(type)) return;

    ignoredTypes.add(type);
    logger.warn(
      { typeUrl: type },
      `a client asked for ${type}, which tollgate does not serve (it serves ` +
        'ClusterLoadAssignment only); that request is not answered. Point that resource ' +
        "type's config source at a control plane that serves it",
    );
  }
}
