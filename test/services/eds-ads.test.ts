import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import {
  adsClient,
  CLA_TYPE_URL,
  deltaAck,
  deltaRequest,
  sotwAck,
  sotwRequest,
  TEST_NODE,
  XdsStream,
  type AdsClient,
  type DeltaStream,
  type SotwStream,
} from '../helpers/xds-client.js';
import { breakerAction, EDS_CONFIG } from './eds-fixtures.js';

const CDS_TYPE_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const LDS_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';

describe('ADS for ClusterLoadAssignments', () => {
  let tg: TestTollgate;
  let client: AdsClient;

  beforeEach(async () => {
    tg = await startTestTollgate(EDS_CONFIG);
    client = adsClient(tg.tollgate.grpcPort);
  });
  afterEach(async () => {
    client.close();
    await tg.stop();
  });

  /** Warnings that a type is not served, by type URL. */
  function unservedWarnings(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const line of tg.logs.find('which tollgate does not serve')) {
      const type = String(line.typeUrl);
      counts[type] = (counts[type] ?? 0) + 1;
    }
    return counts;
  }

  describe('StreamAggregatedResources', () => {
    function openAds(): SotwStream {
      return new XdsStream(client.StreamAggregatedResources());
    }

    it('serves EDS after an unanswered CDS request, naming the node of that request', async () => {
      const stream = openAds();
      // Envoy's first ADS request is for clusters and is the only one with the node.
      stream.send(sotwRequest([], { node: true, typeUrl: CDS_TYPE_URL }));
      assert.equal(await stream.quiet(), true, 'CDS is not answered');

      const response = await stream.exchange(sotwRequest(['llm-a']));

      assert.equal(response.type_url, CLA_TYPE_URL);
      assert.equal(decodeAssignment(response.resources[0]).clusterName, 'llm-a');
      const opened = tg.logs.find('discovery stream opened');
      assert.equal(opened.length, 1);
      assert.equal(opened[0]?.api, 'ads-sotw');
      assert.equal(opened[0]?.node, TEST_NODE.id);
    });

    it('leaves other types unanswered with one warning per type', async () => {
      const stream = openAds();
      stream.send(sotwRequest([], { node: true, typeUrl: CDS_TYPE_URL }));
      stream.send(sotwRequest([], { typeUrl: LDS_TYPE_URL }));
      stream.send(sotwRequest(['x'], { typeUrl: CDS_TYPE_URL }));
      stream.send(sotwRequest([], { typeUrl: LDS_TYPE_URL, nonce: 'abc' }));

      assert.equal(await stream.quiet(), true);
      assert.deepEqual(unservedWarnings(), { [CDS_TYPE_URL]: 1, [LDS_TYPE_URL]: 1 });
      const warning = tg.logs.find('which tollgate does not serve')[0];
      assert.equal(warning?.level, 'warn');
      assert.equal(warning?.node, TEST_NODE.id);
    });

    it('ACKs, NACKs and pushes on the CLA type as on StreamEndpoints', async () => {
      const stream = openAds();
      const first = await stream.exchange(sotwRequest(['llm-a', 'llm-b'], { node: true }));
      const second = await stream.next();
      stream.send(sotwAck(first, ['llm-a', 'llm-b']));
      stream.send(sotwRequest(['llm-a', 'llm-b'], { nonce: second.nonce, error: 'no thanks' }));
      assert.equal(await stream.quiet(), true);

      await breakerAction(tg, '127.0.0.1:9001', 'open');

      const push = await stream.next();
      const health = healthMap(decodeAssignment(push.resources[0]));
      assert.equal(health['127.0.0.1:9001'], 'UNHEALTHY@100');
      assert.equal(tg.logs.find('rejected (NACK)').length, 1);
    });
  });

  describe('DeltaAggregatedResources', () => {
    function openDeltaAds(): DeltaStream {
      return new XdsStream(client.DeltaAggregatedResources());
    }

    it('serves the CLA type and leaves others unanswered with one warning', async () => {
      const stream = openDeltaAds();
      stream.send(deltaRequest({ subscribe: ['c1'], node: true, typeUrl: CDS_TYPE_URL }));
      stream.send(deltaRequest({ subscribe: ['c2'], typeUrl: CDS_TYPE_URL }));
      assert.equal(await stream.quiet(), true);

      const response = await stream.exchange(deltaRequest({ subscribe: ['llm-b'] }));
      stream.send(deltaAck(response));

      assert.equal(response.type_url, CLA_TYPE_URL);
      assert.deepEqual(
        response.resources.map((r) => r.name),
        ['llm-b'],
      );
      assert.equal(decodeAssignment(response.resources[0]?.resource).endpoints.length, 2);
      assert.deepEqual(unservedWarnings(), { [CDS_TYPE_URL]: 1 });
      assert.equal(tg.logs.find('discovery stream opened')[0]?.node, TEST_NODE.id);
      assert.equal(await stream.quiet(), true);
    });

    it('honours initial_resource_versions on a reconnect', async () => {
      const stream = openDeltaAds();
      const first = await stream.exchange(deltaRequest({ subscribe: ['llm-a'], node: true }));
      await stream.cancel();
      const version = first.resources[0]?.version ?? '';

      const again = openDeltaAds();
      again.send(
        deltaRequest({ subscribe: ['llm-a'], initialVersions: { 'llm-a': version }, node: true }),
      );

      assert.equal(await again.quiet(), true);
    });
  });
});
