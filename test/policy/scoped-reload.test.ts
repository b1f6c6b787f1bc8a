import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

const TIMEOUT_HEADER = 'x-envoy-upstream-rq-timeout-ms';
const API = { 'x-tollgate-namespace': 'payments', 'x-tollgate-service': 'api' };

/** A file whose payments:api scope has its own breaker and timeout (when given). */
function scoped(options: { threshold?: number; timeout: number; extra?: string }): string {
  const breaker =
    options.threshold === undefined
      ? ''
      : `        circuit_breakers: {upstreams: {llm: {failure_threshold: ${options.threshold}}}}\n`;
  return `server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
  drain_timeout_seconds: 2
circuit_breakers:
  upstreams:
    llm: {failure_threshold: 50}
namespaces:
  payments:
    services:
      api:
${breaker}        timeouts: {upstream_seconds: ${options.timeout}}
${options.extra ?? ''}`;
}

/** Two namespaces exporting a timeout: valid YAML, a bad config. */
const DUPLICATE_EXPORT = `  a:
    timeouts: {upstream_seconds: 1, export: true}
  b:
    timeouts: {upstream_seconds: 2, export: true}
`;

function timeoutOf(reply: ProcessingResponse | undefined): string | undefined {
  const set = reply?.request_headers?.response?.header_mutation?.set_headers ?? [];
  const found = set.find((option) => option.header.key === TIMEOUT_HEADER);
  return found && Buffer.from(found.header.raw_value).toString();
}

describe('reloading scoped policies', () => {
  let dir: string;
  let file: string;
  let logs: LogSink;
  let tollgate: RunningTollgate;
  let client: ReturnType<typeof extProcClient>;

  async function start(text: string): Promise<void> {
    await writeFile(file, text);
    const parsed = parseConfigText(text, file);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    tollgate = await startTollgate(parsed.config, {
      logger: logs.logger,
      reload: { file, watch: false },
    });
    client = extProcClient(tollgate.grpcPort);
  }

  async function reload(text: string) {
    await writeFile(file, text);
    return tollgate.reloadConfig();
  }

  /** Opens a stream from payments:api and sends its request headers. */
  async function open(headers: Record<string, string> = API) {
    const stream = new EnvoyStream(client);
    const attributes = { 'xds.cluster_name': 'llm' };
    const first = await stream.send(requestHeaders({ headers, attributes }));
    return { stream, first };
  }

  /** Finishes a stream opened by {@link open} with `code` from the upstream. */
  async function finish(stream: EnvoyStream, code = 200) {
    await stream.send(requestBody('{"model":"m","messages":[]}', true));
    await stream.send(responseHeaders(code));
    await stream.send(responseBody('{"model":"m","choices":[]}', true));
    return stream.halfClose();
  }

  async function fail(times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const { stream, first } = await open();
      assert.ok(first?.request_headers, 'forwarded');
      await finish(stream, 500);
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tollgate-scoped-reload-'));
    file = path.join(dir, 'tollgate.yaml');
    logs = new LogSink('info');
  });
  afterEach(async () => {
    client.close();
    await tollgate.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a scoped breaker's state through a reload and applies its new threshold", async () => {
    await start(scoped({ threshold: 4, timeout: 10 }));
    await fail(2);
    const breaker = tollgate.breakers.find('payments:api:llm');

    const outcome = await reload(scoped({ threshold: 3, timeout: 20 }));

    assert.equal(outcome?.result, 'success');
    assert.equal(tollgate.breakers.find('payments:api:llm'), breaker, 'the same breaker');
    assert.equal(breaker?.snapshot().consecutiveFailures, 2);
    await fail(1);
    assert.equal(breaker?.state().kind, 'open', 'opens at the new threshold of 3, not 4');
    const { stream, first } = await open();
    assert.equal(first?.immediate_response?.status.code, 503);
    await stream.halfClose();
  });

  it('drops a scoped breaker a reload removes; its traffic goes to the global one', async () => {
    await start(scoped({ threshold: 2, timeout: 10 }));
    await fail(2);
    assert.equal(tollgate.breakers.find('payments:api:llm')?.state().kind, 'open');

    assert.equal((await reload(scoped({ timeout: 10 })))?.result, 'success');

    assert.equal(tollgate.breakers.find('payments:api:llm'), undefined);
    const { stream, first } = await open();
    assert.ok(first?.request_headers, 'forwarded under the global llm breaker');
    await finish(stream, 500);
    assert.equal(tollgate.breakers.find('llm')?.snapshot().consecutiveFailures, 1);
  });

  it('rejects a reload with a duplicate export and keeps serving the old policies', async () => {
    await start(scoped({ threshold: 2, timeout: 10 }));
    const breaker = tollgate.breakers.find('payments:api:llm');

    const outcome = await reload(scoped({ threshold: 9, timeout: 99, extra: DUPLICATE_EXPORT }));

    assert.equal(outcome?.result, 'failure');
    assert.ok(outcome?.result === 'failure');
    assert.deepEqual(
      outcome.problems.map((problem) => [problem.path, problem.line]),
      [['namespaces.b.timeouts.export', 17]],
    );
    assert.match(outcome.problems[0]!.message, /already exported by namespaces\.a\.timeouts/);
    const logged = logs.lines.filter((line) => line.level === 'error');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!.msg, /line 17: namespaces\.b\.timeouts\.export/);

    assert.equal(tollgate.breakers.find('payments:api:llm'), breaker);
    assert.equal(breaker?.snapshot().settings.failureThreshold, 2);
    const { stream, first } = await open();
    assert.equal(timeoutOf(first), '10000', 'the old timeout still applies');
    assert.equal((await finish(stream)).code, status.OK);
  });

  it('prices a stream with the scoped list it started with, new ones with the new', async () => {
    const priced = (price: number) =>
      scoped({
        timeout: 10,
        extra:
          '  shop:\n    cost_attribution:\n      pricing:\n' +
          `        - {model_pattern: m, input_cost_per_million: ${price}, ` +
          'output_cost_per_million: 0}\n',
      });
    const shop = { 'x-tollgate-namespace': 'shop' };
    const usage = JSON.stringify({
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 },
    });
    const costAtEnd = async (stream: EnvoyStream) => {
      await stream.send(requestBody('{"model":"m","messages":[]}', true));
      await stream.send(responseHeaders(200));
      const last = await stream.send(responseBody(usage, true));
      await stream.halfClose();
      const outer = last?.dynamic_metadata?.fields?.['envoy.filters.http.ext_proc'];
      return outer?.structValue?.fields?.tollgate?.structValue?.fields?.cost?.stringValue;
    };
    await start(priced(10));
    const before = await open(shop);

    assert.equal((await reload(priced(20)))?.result, 'success');
    const after = await open(shop);

    assert.equal(Number(await costAtEnd(before.stream)), 10);
    assert.equal(Number(await costAtEnd(after.stream)), 20);
  });

  it('fails no stream while bad files are reloaded under load', async () => {
    await start(scoped({ threshold: 50, timeout: 10 }));
    const bad = [
      scoped({ timeout: 20, extra: DUPLICATE_EXPORT }),
      scoped({ timeout: 20 }).replace('timeouts:', 'timeout:'),
      `${scoped({ timeout: 20 })}  "a:b": {}\n`,
      'namespaces: [unclosed\n',
    ];
    const inFlight = await Promise.all(Array.from({ length: 40 }, () => open()));

    const late: Array<Promise<{ code: number; timeout: string | undefined }>> = [];
    for (let round = 0; round < 5; round++) {
      for (const text of bad) {
        const outcome = await reload(text);
        assert.equal(outcome?.result, 'failure', text);
        late.push(
          open().then(async ({ stream, first }) => ({
            code: (await finish(stream)).code,
            timeout: timeoutOf(first),
          })),
        );
      }
    }
    const ends = await Promise.all(inFlight.map(({ stream }) => finish(stream)));

    for (const end of ends) assert.equal(end.code, status.OK, end.details);
    for (const { first } of inFlight) assert.equal(timeoutOf(first), '10000');
    for (const result of await Promise.all(late)) {
      assert.deepEqual(result, { code: status.OK, timeout: '10000' });
    }
    const metrics = await fetch(`http://127.0.0.1:${tollgate.adminPort}/metrics`);
    assert.match(await metrics.text(), /tollgate_config_reloads_total\{result="failure"\} 20/);
  });
});
