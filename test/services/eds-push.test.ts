import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { decodeAssignment, healthMap } from '../helpers/assignment-decoder.js';
import { replyKind } from '../helpers/envoy-client.js';
import { requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { edsClient, type EdsClient, type SotwStream } from '../helpers/xds-client.js';
import { breakerAction, clusterMetric, EDS_CONFIG, subscribedSotw } from './eds-fixtures.js';

/** The next push on `stream`, decoded to `address:port → health@weight`. */
async function nextHealth(stream: SotwStream) {
  const response = await stream.next();
  assert.equal(response.resources.length, 1);
  return { response, health: healthMap(decodeAssignment(response.resources[0])) };
}

describe('EDS pushes when health changes', () => {
  let clock: FakeClock;
  let tg: TestTollgate;
  let client: EdsClient;

  beforeEach(async () => {
    clock = new FakeClock();
    tg = await startTestTollgate(EDS_CONFIG, { clock });
    client = edsClient(tg.tollgate.grpcPort);
  });
  afterEach(async () => {
    client.close();
    await tg.stop();
  });

  /** One ext_proc exchange to the upstream named like endpoint 9001, answered `status`. */
  async function exchangeVia9001(upstreamStatus: number) {
    const stream = tg.stream();
    const headers = { 'x-tollgate-upstream': '127.0.0.1:9001' };
    const first = await stream.send(requestHeaders({ headers }));
    assert.equal(replyKind(first), 'request_headers');
    await stream.send(responseHeaders(upstreamStatus, {}, true));
    await stream.halfClose();
  }

  it('pushes a breaker opening to every subscriber of the cluster and no other', async () => {
    const one = await subscribedSotw(client, ['llm-a']);
    const two = await subscribedSotw(client, ['llm-a']);
    const other = await subscribedSotw(client, ['llm-b']);

    await breakerAction(tg, '127.0.0.1:9001', 'open');

    const expected = { '127.0.0.1:9001': 'UNHEALTHY@100', '127.0.0.1:9002': 'HEALTHY@40' };
    const before = one.initial.get('llm-a')?.response.version_info;
    for (const { stream } of [one, two]) {
      const { response, health } = await nextHealth(stream);
      assert.deepEqual(health, expected);
      assert.notEqual(response.version_info, before);
    }
    assert.equal(await other.stream.quiet(), true, 'llm-b did not change');
    assert.equal(await one.stream.quiet(0), true, 'one push per change');
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-a'), 4);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-b'), 1);
  });

  it('follows a breaker opened by ext_proc through half-open (weight 1) to closed', async () => {
    const { stream } = await subscribedSotw(client, ['llm-a']);

    for (let i = 0; i < 3; i++) await exchangeVia9001(503);
    assert.equal((await nextHealth(stream)).health['127.0.0.1:9001'], 'UNHEALTHY@100');

    clock.advance(10_000);
    assert.equal((await nextHealth(stream)).health['127.0.0.1:9001'], 'HEALTHY@1');

    await exchangeVia9001(200);
    const closed = await nextHealth(stream);
    assert.deepEqual(closed.health, {
      '127.0.0.1:9001': 'HEALTHY@100',
      '127.0.0.1:9002': 'HEALTHY@40',
    });
  });

  it('pushes nothing when a re-evaluation gives the same result', async () => {
    const { stream, initial } = await subscribedSotw(client, ['llm-a', 'llm-b']);

    // A breaker reset (a transition, so llm-a is evaluated again) and a reload
    // of the same clusters (every cluster evaluated again) change no endpoint.
    await exchangeVia9001(503);
    await breakerAction(tg, '127.0.0.1:9001', 'reset');
    tg.tollgate.applyConfig(tg.config);

    assert.equal(await stream.quiet(), true, 'an identical evaluation pushes nothing');
    assert.equal(initial.size, 2);
    assert.equal(await clusterMetric(tg, 'tollgate_eds_pushes_total', 'llm-a'), 1);
  });

  it('pushes an empty assignment when a reload removes the cluster', async () => {
    const { stream, initial } = await subscribedSotw(client, ['llm-b']);
    const config = tg.config;

    tg.tollgate.applyConfig({
      ...config,
      clusters: config.clusters.filter((cluster) => cluster.name !== 'llm-b'),
    });
    const removed = await stream.next();
    assert.deepEqual(decodeAssignment(removed.resources[0]).endpoints, []);

    tg.tollgate.applyConfig(config);
    const back = await stream.next();
    assert.equal(back.version_info, initial.get('llm-b')?.response.version_info);
    assert.equal(decodeAssignment(back.resources[0]).endpoints.length, 2);
    assert.equal(tg.logs.find('which is not under clusters:').length, 1);
  });
});
