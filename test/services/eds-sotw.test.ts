import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import {
  CLA_TYPE_URL,
  edsClient,
  sotwAck,
  sotwRequest,
  TEST_NODE,
  type EdsClient,
} from '../helpers/xds-client.js';
import {
  clusterMetric,
  EDS_CONFIG,
  openSotw,
  responsesByCluster,
  subscribedSotw,
} from './eds-fixtures.js';

describe('EDS StreamEndpoints (state of the world)', () => {
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

  it('answers the first request with one versioned response per cluster', async () => {
    const stream = openSotw(client);
    stream.send(sotwRequest(['llm-a', 'llm-b'], { node: true }));

    const byCluster = await responsesByCluster(stream, 2);

    const a = byCluster.get('llm-a');
    const b = byCluster.get('llm-b');
    assert.ok(a && b, `expected llm-a and llm-b, got ${[...byCluster.keys()]}`);
    for (const { response } of [a, b]) {
      assert.equal(response.type_url, CLA_TYPE_URL);
      assert.match(response.version_info, /^[0-9a-f]{16}$/);
      assert.ok(response.nonce, 'every response has a nonce');
      assert.equal(response.control_plane?.identifier, 'tollgate');
    }
    assert.notEqual(a.response.nonce, b.response.nonce);
    assert.notEqual(a.response.version_info, b.response.version_info);
    assert.deepEqual(healthMap(a.assignment), {
      '127.0.0.1:9001': 'HEALTHY@100',
      '127.0.0.1:9002': 'HEALTHY@40',
    });
    const [first, second] = a.assignment.endpoints;
    assert.deepEqual(first?.locality, { region: '', zone: '', sub_zone: '' });
    assert.equal(first?.hostname, undefined);
    assert.deepEqual(second?.locality, { region: 'eu-west-1', zone: 'eu-west-1b', sub_zone: '' });
    assert.equal(second?.hostname, 'gpu-2.internal');
    assert.equal(second?.localityWeight, 40);
    assert.deepEqual(
      b.assignment.endpoints.map((e) => [e.address, e.priority, e.weight]),
      [
        ['10.0.1.1', 0, 100],
        ['10.0.1.2', 1, 100],
      ],
    );
    const opened = tg.logs.find('discovery stream opened')[0];
    assert.equal(opened?.node, TEST_NODE.id);
    assert.equal(opened?.api, 'eds-sotw');
  });

  it('sends nothing back for an ACK', async () => {
    const { stream } = await subscribedSotw(client, ['llm-a', 'llm-b']);

    assert.equal(await stream.quiet(), true, 'an ACK gets no response');
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-a'), 1);
    assert.equal(tg.logs.lines.filter((line) => line.level === 'warn').length, 0);
  });

  it('logs a NACK with its detail, counts it, and does not resend', async () => {
    const stream = openSotw(client);
    const response = await stream.exchange(sotwRequest(['llm-a'], { node: true }));

    stream.send(sotwRequest(['llm-a'], { nonce: response.nonce, error: 'weight 40 too low' }));

    assert.equal(await stream.quiet(), true, 'a NACK is not answered by a resend');
    const [nack, ...more] = tg.logs.find('rejected (NACK)');
    assert.equal(more.length, 0);
    assert.equal(nack?.level, 'warn');
    assert.equal(nack?.errorDetail, 'weight 40 too low');
    assert.equal(nack?.nonce, response.nonce);
    assert.deepEqual(nack?.resources, [`llm-a@${response.version_info}`]);
    assert.match(nack?.msg ?? '', /weight 40 too low/);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_nacks_total', 'llm-a'), 1);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-a'), 1);
  });

  it('ignores a request with a stale nonce but applies its subscription change', async () => {
    const stream = openSotw(client);
    const a = await stream.exchange(sotwRequest(['llm-a'], { node: true }));
    const b = await stream.exchange(sotwAck(a, ['llm-a', 'llm-b']));
    assert.equal(decodeAssignment(b.resources[0]).clusterName, 'llm-b');

    // The client had not seen b yet: the same names with a's nonce change nothing.
    stream.send(sotwRequest(['llm-a', 'llm-b'], { version: 'old', nonce: a.nonce }));
    assert.equal(await stream.quiet(), true, 'a stale repeat is ignored');

    // A stale request that drops llm-b, then one that wants it again: it is sent again.
    stream.send(sotwRequest(['llm-a'], { nonce: a.nonce }));
    const again = await stream.exchange(sotwRequest(['llm-a', 'llm-b'], { nonce: a.nonce }));
    assert.equal(decodeAssignment(again.resources[0]).clusterName, 'llm-b');
    assert.equal(again.version_info, b.version_info);
    assert.notEqual(again.nonce, b.nonce);
    assert.equal(await stream.quiet(), true);
  });

  it('answers an unknown cluster with an empty assignment and one warning', async () => {
    const stream = openSotw(client);
    const response = await stream.exchange(sotwRequest(['no-such-cluster'], { node: true }));

    const assignment = decodeAssignment(response.resources[0]);
    assert.equal(assignment.clusterName, 'no-such-cluster');
    assert.deepEqual(assignment.endpoints, []);
    assert.ok(response.version_info);

    stream.send(sotwAck(response, ['no-such-cluster', 'llm-a']));
    assert.equal(decodeAssignment((await stream.next()).resources[0]).clusterName, 'llm-a');
    const warnings = tg.logs.find('which is not under clusters:');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.level, 'warn');
    assert.equal(warnings[0]?.cluster, 'no-such-cluster');
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', '_unknown'), 1);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'no-such-cluster'), 0);
  });

  it('sends a cluster again after it is unsubscribed and subscribed again', async () => {
    const stream = openSotw(client);
    const first = await stream.exchange(sotwRequest(['llm-a'], { node: true }));

    stream.send(sotwRequest([], { version: first.version_info, nonce: first.nonce }));
    assert.equal(await stream.quiet(), true, 'unsubscribing is not answered');
    const second = await stream.exchange(sotwRequest(['llm-a'], { nonce: first.nonce }));

    assert.equal(second.version_info, first.version_info);
    assert.notEqual(second.nonce, first.nonce);
    assert.deepEqual(decodeAssignment(second.resources[0]), decodeAssignment(first.resources[0]));
  });

  it('ends the stream OK when the client half-closes it', async () => {
    const { stream } = await subscribedSotw(client, ['llm-a']);

    const end = await stream.halfClose();

    assert.equal(end.code, 0);
  });
});
