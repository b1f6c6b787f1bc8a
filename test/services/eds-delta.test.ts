import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { DeltaDiscoveryResponse } from '../../src/services/eds/discovery-messages.js';
import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import {
  CLA_TYPE_URL,
  deltaAck,
  deltaRequest,
  edsClient,
  XdsStream,
  type DeltaStream,
  type EdsClient,
} from '../helpers/xds-client.js';
import { breakerAction, clusterMetric, EDS_CONFIG } from './eds-fixtures.js';

/** name → version of every resource in a delta response. */
function versions(response: DeltaDiscoveryResponse): Record<string, string> {
  return Object.fromEntries(response.resources.map((r) => [r.name, r.version]));
}

describe('EDS DeltaEndpoints (incremental)', () => {
  let tg: TestTollgate;
  let client: EdsClient;

  beforeEach(async () => {
    tg = await startTestTollgate(EDS_CONFIG);
    client = edsClient(tg.tollgate.grpcPort);
  });
  afterEach(async () => {
    client.close();
    await tg.stop();
  });

  function openDelta(): DeltaStream {
    return new XdsStream(client.DeltaEndpoints());
  }

  /** A stream subscribed to `names`, its first response ACKed. */
  async function subscribedDelta(names: string[]) {
    const stream = openDelta();
    const first = await stream.exchange(deltaRequest({ subscribe: names, node: true }));
    stream.send(deltaAck(first));
    return { stream, first };
  }

  it('sends every subscribed cluster with its own version in one response', async () => {
    const stream = openDelta();

    const response = await stream.exchange(
      deltaRequest({ subscribe: ['llm-a', 'llm-b'], node: true }),
    );

    assert.equal(response.type_url, CLA_TYPE_URL);
    assert.ok(response.nonce);
    assert.deepEqual(response.removed_resources ?? [], []);
    assert.deepEqual(Object.keys(versions(response)).sort(), ['llm-a', 'llm-b']);
    for (const resource of response.resources) {
      assert.match(resource.version, /^[0-9a-f]{16}$/);
      assert.equal(decodeAssignment(resource.resource).clusterName, resource.name);
    }
    assert.notEqual(versions(response)['llm-a'], versions(response)['llm-b']);
    const a = response.resources.find((r) => r.name === 'llm-a');
    assert.deepEqual(healthMap(decodeAssignment(a?.resource)), {
      '127.0.0.1:9001': 'HEALTHY@100',
      '127.0.0.1:9002': 'HEALTHY@40',
    });
  });

  it('sends nothing back for an ACK', async () => {
    const { stream } = await subscribedDelta(['llm-a']);

    assert.equal(await stream.quiet(), true);
    assert.equal(tg.logs.find('rejected (NACK)').length, 0);
  });

  it('logs and counts a NACK, and does not resend', async () => {
    const stream = openDelta();
    const first = await stream.exchange(deltaRequest({ subscribe: ['llm-b'], node: true }));

    stream.send(deltaRequest({ nonce: first.nonce, error: 'priority 1 without 0' }));

    assert.equal(await stream.quiet(), true);
    const nacks = tg.logs.find('rejected (NACK)');
    assert.equal(nacks.length, 1);
    assert.equal(nacks[0]?.errorDetail, 'priority 1 without 0');
    assert.deepEqual(nacks[0]?.resources, [`llm-b@${versions(first)['llm-b']}`]);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_nacks_total', 'llm-b'), 1);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-b'), 1);
  });

  it('answers a later subscription without a nonce with only the new cluster', async () => {
    const { stream } = await subscribedDelta(['llm-a']);

    const response = await stream.exchange(deltaRequest({ subscribe: ['llm-b'] }));

    assert.deepEqual(Object.keys(versions(response)), ['llm-b']);
  });

  it('stops pushing a cluster after unsubscribe, and sends it again on resubscribe', async () => {
    const { stream, first } = await subscribedDelta(['llm-a', 'llm-b']);

    stream.send(deltaRequest({ unsubscribe: ['llm-a'] }));
    assert.equal(await stream.quiet(), true, 'unsubscribing is not answered');
    await breakerAction(tg, '127.0.0.1:9001', 'open');
    assert.equal(await stream.quiet(), true, 'an unsubscribed cluster is not pushed');

    const again = await stream.exchange(deltaRequest({ subscribe: ['llm-a'] }));
    assert.deepEqual(Object.keys(versions(again)), ['llm-a']);
    assert.notEqual(versions(again)['llm-a'], versions(first)['llm-a']);
    const health = healthMap(decodeAssignment(again.resources[0]?.resource));
    assert.equal(health['127.0.0.1:9001'], 'UNHEALTHY@100');
  });

  it('pushes only the changed cluster to a delta subscriber', async () => {
    const { stream, first } = await subscribedDelta(['llm-a', 'llm-b']);

    await breakerAction(tg, '127.0.0.1:9002', 'open');

    const push = await stream.next();
    assert.deepEqual(Object.keys(versions(push)), ['llm-a']);
    assert.notEqual(push.nonce, first.nonce);
    const health = healthMap(decodeAssignment(push.resources[0]?.resource));
    assert.equal(health['127.0.0.1:9002'], 'UNHEALTHY@40');
  });

  it('honours initial_resource_versions after a reconnect', async () => {
    const { stream, first } = await subscribedDelta(['llm-a', 'llm-b']);
    await stream.cancel();

    const reconnected = openDelta();
    const held = { 'llm-a': versions(first)['llm-a']!, 'llm-b': 'stale-version' };
    reconnected.send(
      deltaRequest({ subscribe: ['llm-a', 'llm-b'], initialVersions: held, node: true }),
    );

    const response = await reconnected.next();
    assert.deepEqual(versions(response), { 'llm-b': versions(first)['llm-b'] });
    assert.equal(await reconnected.quiet(), true, 'the current llm-a is not resent');
  });

  it('sends nothing on reconnect when every held version is current', async () => {
    const { stream, first } = await subscribedDelta(['llm-a']);
    await stream.cancel();

    const reconnected = openDelta();
    const held = { 'llm-a': versions(first)['llm-a']! };
    reconnected.send(deltaRequest({ subscribe: ['llm-a'], initialVersions: held, node: true }));

    assert.equal(await reconnected.quiet(), true);
    await breakerAction(tg, '127.0.0.1:9001', 'open');
    const push = await reconnected.next();
    assert.deepEqual(Object.keys(versions(push)), ['llm-a']);
  });

  it('answers an unknown cluster with an empty assignment and one warning', async () => {
    const stream = openDelta();

    const response = await stream.exchange(deltaRequest({ subscribe: ['ghost'], node: true }));
    stream.send(deltaAck(response));
    await stream.exchange(deltaRequest({ unsubscribe: ['ghost'], subscribe: ['llm-a'] }));

    const ghost = response.resources[0];
    assert.equal(ghost?.name, 'ghost');
    assert.deepEqual(decodeAssignment(ghost?.resource).endpoints, []);
    assert.deepEqual(response.removed_resources ?? [], []);
    assert.equal(tg.logs.find('which is not under clusters:').length, 1);
  });
});
