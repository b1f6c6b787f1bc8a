import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { decodeAssignment } from '../helpers/assignment-decoder.js';
import { metricValue } from '../helpers/metrics.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';
import {
  adsClient,
  CLA_TYPE_URL,
  deltaRequest,
  edsClient,
  fetchEndpoints,
  sotwRequest,
  XdsStream,
  type EdsClient,
} from '../helpers/xds-client.js';
import { EDS_CONFIG, openSotw, subscribedSotw } from './eds-fixtures.js';

describe('EDS FetchEndpoints, metrics and shutdown', () => {
  let tg: TestTollgate;
  let client: EdsClient;
  let stopped = false;

  beforeEach(async () => {
    tg = await startTestTollgate(EDS_CONFIG);
    client = edsClient(tg.tollgate.grpcPort);
    stopped = false;
  });
  afterEach(async () => {
    client.close();
    if (!stopped) await tg.stop();
  });

  it('answers FetchEndpoints with every named cluster, unknown ones empty', async () => {
    const request = sotwRequest(['llm-b', 'llm-a', 'ghost'], { node: true });

    const { response, error } = await fetchEndpoints(client, request);

    assert.equal(error, undefined);
    assert.equal(response?.type_url, CLA_TYPE_URL);
    const assignments = response?.resources.map((any) => decodeAssignment(any)) ?? [];
    assert.deepEqual(
      assignments.map((a) => [a.clusterName, a.endpoints.length]),
      [
        ['llm-b', 2],
        ['llm-a', 2],
        ['ghost', 0],
      ],
    );
    assert.match(response?.version_info ?? '', /^[0-9a-f]{16}$/);
    const again = await fetchEndpoints(client, request);
    assert.equal(again.response?.version_info, response?.version_info);
    assert.equal(tg.logs.find('which is not under clusters:').length, 2, 'one per fetch');
  });

  it('refuses FetchEndpoints for another type with INVALID_ARGUMENT', async () => {
    const typeUrl = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

    const { response, error } = await fetchEndpoints(client, sotwRequest(['llm-a'], { typeUrl }));

    assert.equal(response, undefined);
    assert.equal(error?.code, status.INVALID_ARGUMENT);
    assert.match(error?.details ?? '', /ClusterLoadAssignment only/);
  });

  it('counts streams subscribed to at least one cluster in tollgate_eds_subscribers', async () => {
    const ads = adsClient(tg.tollgate.grpcPort);
    try {
      const one = await subscribedSotw(client, ['llm-a']);
      await subscribedSotw(client, ['llm-a', 'llm-b']);
      const delta = new XdsStream(ads.DeltaAggregatedResources());
      await delta.exchange(deltaRequest({ subscribe: ['llm-b'], node: true }));
      const idle = openSotw(client);
      idle.send(sotwRequest([], { node: true }));
      await waitFor(async () => (await metricValue(tg, 'tollgate_eds_subscribers')) === 3);

      await one.stream.cancel();
      await waitFor(async () => (await metricValue(tg, 'tollgate_eds_subscribers')) === 2);
      delta.send(deltaRequest({ unsubscribe: ['llm-b'] }));
      await waitFor(async () => (await metricValue(tg, 'tollgate_eds_subscribers')) === 1);
    } finally {
      ads.close();
    }
  });

  it('ends every discovery stream on stop, so the drain does not wait for them', async () => {
    const ads = adsClient(tg.tollgate.grpcPort);
    const sotw = await subscribedSotw(client, ['llm-a']);
    const delta = new XdsStream(ads.DeltaAggregatedResources());
    await delta.exchange(deltaRequest({ subscribe: ['llm-b'], node: true }));

    // The drain gives up (drained false) after drain_timeout_seconds.
    const { drained } = await tg.stop();
    stopped = true;
    ads.close();

    assert.equal(drained, true);
    for (const end of [await sotw.stream.status, await delta.status]) {
      assert.equal(end.code, status.UNAVAILABLE);
      assert.match(end.details, /shutting down/);
    }
  });
});
