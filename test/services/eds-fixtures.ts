import assert from 'node:assert/strict';

import type { DiscoveryResponse } from '../../src/services/eds/discovery-messages.js';
import { decodeAssignment, type DecodedAssignment } from '../helpers/assignment-decoder.js';
import { metricValue } from '../helpers/metrics.js';
import type { TestTollgate } from '../helpers/tollgate-harness.js';
import {
  sotwAck,
  sotwRequest,
  XdsStream,
  type EdsClient,
  type SotwStream,
} from '../helpers/xds-client.js';

/**
 * Two clusters without checks (every endpoint HEALTHY unless its breaker
 * says otherwise), and a breaker per endpoint of `llm-a` that opens after
 * three failures and turns half-open after 10 s.
 */
export const EDS_CONFIG = `
circuit_breakers:
  defaults:
    failure_threshold: 3
    success_threshold: 1
    timeout_seconds: 10
  upstreams:
    127.0.0.1:9001:
    127.0.0.1:9002:
clusters:
  - name: llm-a
    endpoints:
      - address: 127.0.0.1
        port: 9001
        weight: 100
      - address: 127.0.0.1
        port: 9002
        weight: 40
        hostname: gpu-2.internal
        locality: { region: eu-west-1, zone: eu-west-1b }
  - name: llm-b
    endpoints:
      - address: 10.0.1.1
        port: 8000
      - address: 10.0.1.2
        port: 8000
        priority: 1
`;

/** Opens a state-of-the-world EDS stream. */
export function openSotw(client: EdsClient): SotwStream {
  return new XdsStream(client.StreamEndpoints());
}

/** Reads `count` responses and returns them by the cluster each carries. */
export async function responsesByCluster(
  stream: SotwStream,
  count: number,
): Promise<Map<string, { response: DiscoveryResponse; assignment: DecodedAssignment }>> {
  const byCluster = new Map<
    string,
    { response: DiscoveryResponse; assignment: DecodedAssignment }
  >();
  for (let i = 0; i < count; i++) {
    const response = await stream.next();
    assert.equal(response.resources.length, 1, 'one cluster per state-of-the-world response');

    const assignment = decodeAssignment(response.resources[0]);
    byCluster.set(assignment.clusterName, { response, assignment });
  }
  return byCluster;
}

/**
 * Subscribes a new stream to `names` (node on the first request), reads one
 * response per name and ACKs each, as Envoy does. Returns the stream and
 * the last response per cluster.
 */
export async function subscribedSotw(client: EdsClient, names: readonly string[]) {
  const stream = openSotw(client);
  stream.send(sotwRequest(names, { node: true }));
  const initial = await responsesByCluster(stream, names.length);
  for (const { response } of initial.values()) stream.send(sotwAck(response, names));
  return { stream, initial };
}

/** Reads `/metrics` for `name` with a `cluster` label (0 when absent). */
export async function clusterMetric(tg: TestTollgate, name: string, cluster: string) {
  return (await metricValue(tg, name, { cluster })) ?? 0;
}

/** Opens (or resets) the breaker named like an endpoint, from the admin port. */
export async function breakerAction(tg: TestTollgate, endpoint: string, action: 'open' | 'reset') {
  const reply = await tg.admin(`/breakers/${encodeURIComponent(endpoint)}/${action}`, 'POST');
  assert.equal(reply.status, 200, reply.text);
}
