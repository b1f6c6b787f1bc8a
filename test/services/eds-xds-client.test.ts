import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { StatusObject } from '@grpc/grpc-js';
// grpc-js-xds has no "exports" map: its client and resource types are deep imports.
import { validateBootstrapConfig } from '@grpc/grpc-js-xds/build/src/xds-bootstrap.js';
import { Watcher, XdsClient } from '@grpc/grpc-js-xds/build/src/xds-client.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import type { ClusterLoadAssignment__Output as Assignment } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';

import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';
import { breakerAction, EDS_CONFIG } from './eds-fixtures.js';

const NODE_ID = 'grpc-js-xds-client';

/** What one watch saw, and a way to wait for its next update. */
class WatchLog {
  readonly updates: Assignment[] = [];
  readonly errors: StatusObject[] = [];
  missing = 0;
  readonly watcher = new Watcher<Assignment>({
    onResourceChanged: (update) => {
      this.updates.push(update);
      this.waiters.splice(0).forEach((wake) => wake());
    },
    onError: (status) => this.errors.push(status),
    onResourceDoesNotExist: () => (this.missing += 1),
  });
  private readonly waiters: Array<() => void> = [];

  /** Resolves with update number `count` (1-based) once it has arrived. */
  async update(count: number, timeoutMs = 3000): Promise<Assignment> {
    const deadline = Date.now() + timeoutMs;
    while (this.updates.length < count) {
      if (Date.now() > deadline) throw new Error(`update ${count} did not arrive`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.updates[count - 1]!;
  }
}

/** `address:port → health@weight` of an assignment as grpc-js-xds decoded it. */
function health(assignment: Assignment): Record<string, string> {
  const entries = assignment.endpoints.flatMap((group) =>
    group.lb_endpoints.map((lb) => {
      const socket = lb.endpoint?.address?.socket_address;
      const key = `${socket?.address}:${socket?.port_value}`;
      return [key, `${lb.health_status}@${lb.load_balancing_weight?.value}`];
    }),
  );
  return Object.fromEntries(entries);
}

describe('grpc-js-xds XdsClient as an EDS consumer over ADS', () => {
  let tg: TestTollgate;
  let client: XdsClient;
  const watches: Array<[string, WatchLog]> = [];

  beforeEach(async () => {
    tg = await startTestTollgate(EDS_CONFIG);
    const bootstrap = validateBootstrapConfig({
      xds_servers: [
        {
          server_uri: `127.0.0.1:${tg.tollgate.grpcPort}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: [],
        },
      ],
      node: { id: NODE_ID, locality: {} },
    });
    client = new XdsClient(bootstrap);
  });
  afterEach(async () => {
    for (const [name, log] of watches.splice(0)) {
      EndpointResourceType.cancelWatch(client, name, log.watcher);
    }
    await tg.stop();
  });

  function watch(name: string): WatchLog {
    const log = new WatchLog();
    watches.push([name, log]);
    EndpointResourceType.startWatch(client, name, log.watcher);
    return log;
  }

  it('accepts the assignment and the push after a breaker opens', async () => {
    const log = watch('llm-a');

    const first = await log.update(1);
    assert.equal(first.cluster_name, 'llm-a');
    assert.deepEqual(health(first), {
      '127.0.0.1:9001': 'HEALTHY@100',
      '127.0.0.1:9002': 'HEALTHY@40',
    });
    assert.deepEqual(first.endpoints[1]?.locality, {
      region: 'eu-west-1',
      zone: 'eu-west-1b',
      sub_zone: '',
    });

    await breakerAction(tg, '127.0.0.1:9001', 'open');
    const second = await log.update(2);
    assert.equal(health(second)['127.0.0.1:9001'], 'UNHEALTHY@100');

    assert.deepEqual(log.errors, []);
    assert.equal(tg.logs.find('rejected (NACK)').length, 0, 'the client ACKed every version');
    // The client ACKs each version just after handing it to its watchers.
    await waitFor(() => tg.logs.lines.filter((line) => line.msg === 'ACK').length === 2);
    const opened = tg.logs.find('discovery stream opened')[0];
    assert.equal(opened?.api, 'ads-sotw');
    assert.equal(opened?.node, NODE_ID);
  });

  it('sees an unknown cluster as an empty assignment, not a missing resource', async () => {
    const log = watch('not-configured');

    const update = await log.update(1);

    assert.equal(update.cluster_name, 'not-configured');
    assert.deepEqual(update.endpoints, []);
    assert.equal(log.missing, 0);
  });

  it('gets each watched cluster on one ADS stream', async () => {
    const a = watch('llm-a');
    const b = watch('llm-b');

    const [assignmentA, assignmentB] = [await a.update(1), await b.update(1)];

    assert.equal(assignmentA.cluster_name, 'llm-a');
    assert.deepEqual(
      assignmentB.endpoints.map((group) => group.priority),
      [0, 1],
    );
    assert.equal(tg.logs.find('discovery stream opened').length, 1);
  });
});
