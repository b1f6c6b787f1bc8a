import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { parseConfigText } from '../../src/config/load-config.js';
import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import { startTollgate, type RunningTollgate } from '../../src/tollgate.js';
import { EnvoyStream, extProcClient } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { LogSink } from '../helpers/log-sink.js';
import { sampleValue } from '../helpers/metrics.js';

const NAMESPACE = 'envoy.filters.http.ext_proc';
const STREAMS = 100;
const RELOADS = 50;

/**
 * Generation `gen` of the file. Three settings carry the generation, read at
 * different moments of a stream: the metadata key (fixed when the stream
 * starts), the price (used when the response is settled) and the breaker
 * threshold (shared, reconfigured in place).
 */
function generation(gen: number, grpcAddress = '127.0.0.1:0'): string {
  return `server:
  grpc_address: ${grpcAddress}
  admin_address: 127.0.0.1:0
  drain_timeout_seconds: 2
usage:
  metadata:
    key: gen-${gen}
cost_attribution:
  pricing:
    - model_pattern: m
      input_cost_per_million: ${gen + 1}
      output_cost_per_million: 0
circuit_breakers:
  defaults:
    failure_threshold: ${gen + 2}
`;
}

const USAGE_JSON = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  model: 'm',
  choices: [],
  usage: { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 },
});

/** Which generation a final reply was decided with, read from its metadata key and its cost. */
function decidedWith(reply: ProcessingResponse | undefined): { key: number; cost: number } {
  const outer = reply?.dynamic_metadata?.fields?.[NAMESPACE]?.structValue?.fields ?? {};
  const [key, value] = Object.entries(outer)[0] ?? [];
  const cost = value?.structValue?.fields?.cost?.stringValue;
  assert.ok(key !== undefined && key.startsWith('gen-'), 'the reply carries usage metadata');
  assert.ok(cost !== undefined, 'the reply carries a cost');

  return { key: Number(key.slice(4)), cost: Number(cost) - 1 };
}

describe('config hot reload of a running tollgate', () => {
  let dir: string;
  let file: string;
  let logs: LogSink;
  let tollgate: RunningTollgate;
  let client: ReturnType<typeof extProcClient>;

  async function start(text: string): Promise<void> {
    await writeFile(file, text);
    const parsed = parseConfigText(text, file);
    assert.ok(parsed.ok);
    tollgate = await startTollgate(parsed.config, {
      logger: logs.logger,
      reload: { file, watch: false },
    });
    client = extProcClient(tollgate.grpcPort);
  }

  async function admin(urlPath: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${tollgate.adminPort}${urlPath}`);
    return response.text();
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tollgate-hot-'));
    file = path.join(dir, 'tollgate.yaml');
    logs = new LogSink('info');
  });
  afterEach(async () => {
    client.close();
    await tollgate.stop();
  });

  it('reloads 50 times under 100 streams: none fails, each keeps one config', async () => {
    await start(generation(0));
    let live = 0;
    let reloadsDone = 0;
    let halfway!: () => void;
    const halfwayReached = new Promise<void>((resolve) => (halfway = resolve));

    const runStream = async (index: number) => {
      const stream = new EnvoyStream(client);
      const liveAtOpen = live;
      const llm = { attributes: { 'xds.cluster_name': 'llm' } };
      const first = await stream.send(requestHeaders(llm));
      const liveAtHeaders = live;
      await stream.send(requestBody('{"model":"m","messages":[]}', true));

      // Half of the streams wait for reloads to happen in the middle of them.
      if (index % 2 === 0) await halfwayReached;
      await stream.send(responseHeaders(200));
      const last = await stream.send(responseBody(USAGE_JSON, true));
      const end = await stream.halfClose();

      return { first, last, end, liveAtOpen, liveAtHeaders, liveAtEnd: live };
    };

    const reloadAll = async () => {
      for (let gen = 1; gen <= RELOADS; gen++) {
        await writeFile(file, generation(gen));
        const outcome = await tollgate.reloadConfig();
        assert.equal(outcome?.result, 'success', `reload ${gen}`);
        live = gen;
        reloadsDone += 1;
        if (gen === RELOADS / 2) halfway();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };

    const [results] = await Promise.all([
      Promise.all(Array.from({ length: STREAMS }, (_, index) => runStream(index))),
      reloadAll(),
    ]);

    assert.equal(reloadsDone, RELOADS);
    let spanned = 0;
    for (const result of results) {
      assert.equal(result.end.code, status.OK, result.end.details);
      assert.equal(result.first?.request_headers !== undefined, true, 'the request was forwarded');

      const { key, cost } = decidedWith(result.last);
      assert.equal(cost, key, 'metadata key and price come from the same config');
      assert.ok(key >= result.liveAtOpen && key <= result.liveAtHeaders, 'the config at its start');
      if (result.liveAtEnd > key) spanned += 1;
    }
    assert.ok(spanned >= STREAMS / 2, `${spanned} streams outlived the config they started with`);

    const breaker = tollgate.breakers.find('llm');
    assert.equal(breaker?.snapshot().settings.failureThreshold, RELOADS + 2);
    assert.equal(breaker?.snapshot().totals.admitted, STREAMS, 'one breaker across every reload');
    const metrics = await admin('/metrics');
    assert.equal(
      sampleValue(metrics, 'tollgate_config_reloads_total', { result: 'success' }),
      RELOADS,
    );
  });

  it('keeps breaker state through a reload and applies the new thresholds', async () => {
    await start(generation(2));
    const breaker = tollgate.breakers.get('llm');
    for (let i = 0; i < 2; i++) {
      const admission = breaker!.tryAcquire();
      assert.ok(admission.admitted);
      admission.permit.recordFailure();
    }

    await writeFile(file, generation(1));
    await tollgate.reloadConfig();

    assert.equal(tollgate.breakers.find('llm'), breaker);
    assert.equal(breaker?.snapshot().consecutiveFailures, 2);
    const admission = breaker!.tryAcquire();
    assert.ok(admission.admitted);
    admission.permit.recordFailure();
    assert.equal(breaker?.state().kind, 'open', 'opens at the new threshold of 3, not the old 4');
  });

  it('keeps serving on a bad file; /status shows the last good version and the error', async () => {
    await start(generation(0));
    const before = JSON.parse(await admin('/status'));
    await writeFile(file, `${generation(1)}  failure_threshold: 0\n`);

    const outcome = await tollgate.reloadConfig();

    assert.equal(outcome?.result, 'failure');
    const after = JSON.parse(await admin('/status'));
    assert.equal(after.config.version, before.config.version);
    assert.equal(after.reload.version, before.config.version);
    assert.equal(after.reload.lastError.trigger, 'signal');
    assert.match(after.reload.lastError.problems[0].message, /unknown key|at least/);
    assert.equal(logs.lines.filter((line) => line.level === 'error').length, 1);

    const stream = new EnvoyStream(client);
    const reply = await stream.send(requestHeaders({ endOfStream: true }));
    assert.ok(reply?.request_headers, 'the old config still decides');
    assert.equal((await stream.halfClose()).code, status.OK);
  });

  it('keeps the listeners and says a restart is needed when their settings change', async () => {
    await start(generation(0));
    await writeFile(file, generation(1, '127.0.0.1:1'));

    const outcome = await tollgate.reloadConfig();

    assert.equal(outcome?.result, 'success');
    const warning = logs.find('only change on restart')[0];
    assert.deepEqual(warning?.fields, ['server.grpc_address']);
    const stream = new EnvoyStream(client);
    assert.ok((await stream.send(requestHeaders({ endOfStream: true })))?.request_headers);
    await stream.halfClose();
  });
});
