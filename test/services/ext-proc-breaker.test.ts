import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import { replyKind, type EnvoyStream } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseHeaders,
  trailers,
} from '../helpers/envoy-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { heldPermits } from '../helpers/breaker-permits.js';
import { metricValue } from '../helpers/metrics.js';
import { ResettableStreams } from '../helpers/resettable-stream.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
circuit_breakers:
  defaults:
    failure_threshold: 3
    success_threshold: 2
    timeout_seconds: 10
    half_open_max_requests: 2
`;

const LLM = { attributes: { 'xds.cluster_name': 'llm' } };

describe('circuit breakers over ext_proc', () => {
  let clock: FakeClock;
  let tg: TestTollgate;

  beforeEach(async () => {
    clock = new FakeClock();
    tg = await startTestTollgate(CONFIG, { clock });
  });
  afterEach(() => tg.stop());

  /** One complete exchange whose upstream answers `status`; returns the first reply. */
  async function exchange(upstreamStatus: number, options = LLM) {
    const stream = tg.stream();
    const first = await stream.send(requestHeaders(options));
    if (replyKind(first) === 'request_headers') {
      await stream.send(responseHeaders(upstreamStatus, {}, true));
      await stream.halfClose();
    }
    return { first, end: await stream.status };
  }

  /** Opens a stream and sends only its request headers (a request in flight). */
  async function begin(): Promise<{ stream: EnvoyStream; first?: ProcessingResponse }> {
    const stream = tg.stream();
    return { stream, first: await stream.send(requestHeaders(LLM)) };
  }

  async function openBreaker() {
    for (let i = 0; i < 3; i++) await exchange(503);
  }

  it('opens after failure_threshold consecutive 5xx and answers 503 itself', async () => {
    await openBreaker();

    const { first, end } = await exchange(200);

    const immediate = first?.immediate_response;
    assert.ok(immediate, `expected an immediate response, got ${replyKind(first)}`);
    assert.equal(immediate.status.code, 503);
    assert.equal(immediate.details, 'tollgate_circuit_open');
    const headers = Object.fromEntries(
      (immediate.headers?.set_headers ?? []).map((h) => [h.header.key, h]),
    );
    assert.equal(headers['retry-after']?.header.raw_value.toString(), '10');
    assert.equal((headers['retry-after']?.header as { value?: string }).value, undefined);
    const body = JSON.parse(Buffer.from(immediate.body ?? []).toString());
    assert.equal(body.error.upstream, 'llm');
    assert.equal(end.code, status.OK);
  });

  it('counts only consecutive failures: a success in between resets them', async () => {
    await exchange(503);
    await exchange(503);
    await exchange(200);
    await exchange(503);
    await exchange(503);

    const { first } = await exchange(200);

    assert.equal(replyKind(first), 'request_headers');
  });

  it('does not count 429 as a failure by default', async () => {
    for (let i = 0; i < 5; i++) await exchange(429);

    const { first } = await exchange(200);

    assert.equal(replyKind(first), 'request_headers');
  });

  it('rounds retry-after up to whole seconds until the trial window', async () => {
    await openBreaker();
    clock.advance(8_500);

    const { first } = await exchange(200);

    const retry = first?.immediate_response?.headers?.set_headers?.find(
      (h) => h.header.key === 'retry-after',
    );
    assert.equal(retry?.header.raw_value.toString(), '2');
  });

  it('reports half_open on /metrics once the timeout passes, before any request', async () => {
    await openBreaker();
    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('open')), 1);

    clock.advance(10_000);

    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('half_open')), 1);
    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('open')), 0);
  });

  it('admits exactly half_open_max_requests trials from 50 concurrent streams', async () => {
    await openBreaker();
    clock.advance(10_000);

    const opened = await Promise.all(Array.from({ length: 50 }, () => begin()));

    const trials = opened.filter(({ first }) => replyKind(first) === 'request_headers');
    const rejected = opened.filter(({ first }) => first?.immediate_response?.status.code === 503);
    assert.equal(trials.length, 2);
    assert.equal(rejected.length, 48);
    await Promise.all(trials.map(({ stream }) => stream.cancel()));
  });

  it('closes after success_threshold trial successes', async () => {
    await openBreaker();
    clock.advance(10_000);

    await exchange(200);
    await exchange(200);

    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('closed')), 1);
    const transitions = await metricValue(tg, 'tollgate_breaker_transitions_total', {
      breaker: 'llm',
      from: 'half_open',
      to: 'closed',
    });
    assert.equal(transitions, 1);
  });

  it('re-opens on a failed trial and restarts the timer', async () => {
    await openBreaker();
    clock.advance(10_000);

    await exchange(502);
    clock.advance(9_000);
    const { first } = await exchange(200);

    assert.equal(first?.immediate_response?.status.code, 503);
    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('open')), 1);
  });

  const heldAt = [
    { phase: 'after request headers', then: [] },
    { phase: 'mid request body', then: [requestBody('{"mo', false)] },
    {
      phase: 'after the whole request, waiting for response headers',
      then: [requestBody('{}', true)],
    },
    { phase: 'after request trailers', then: [requestBody('{}', false), trailers('request')] },
  ];

  for (const { phase, then } of heldAt) {
    it(`gives a trial's permit back when its stream is cancelled ${phase}`, async () => {
      await openBreaker();
      clock.advance(10_000);
      const held = await Promise.all([begin(), begin()]);
      for (const message of then) {
        const replies = await Promise.all(held.map(({ stream }) => stream.send(message)));
        assert.ok(replies.every((reply) => reply !== undefined));
      }

      const whileHeld = await exchange(200);
      await Promise.all(held.map(({ stream }) => stream.cancel()));
      // The cancel reaches tollgate asynchronously, as it does from Envoy.
      await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 0);
      const afterCancel = await exchange(200);

      assert.equal(whileHeld.first?.immediate_response?.status.code, 503);
      assert.equal(replyKind(afterCancel.first), 'request_headers');
    });
  }

  it('takes no trial slot for a stream cancelled before any message', async () => {
    await openBreaker();
    clock.advance(10_000);
    const idle = [tg.stream(), tg.stream()];
    await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 2);

    await Promise.all(idle.map((stream) => stream.cancel()));
    await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 0);
    const trials = await Promise.all([begin(), begin()]);

    assert.deepEqual(
      trials.map(({ first }) => replyKind(first)),
      ['request_headers', 'request_headers'],
    );
    await Promise.all(trials.map(({ stream }) => stream.cancel()));
  });

  const SKIP_WARNING = 'set response_header_mode: SEND';

  it('warns once when streams end after their request without response headers', async () => {
    for (let i = 0; i < 3; i++) {
      const stream = tg.stream();
      await stream.send(requestHeaders({ ...LLM, endOfStream: true }));
      await stream.halfClose();
    }
    await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 0);

    const warned = tg.logs.find(SKIP_WARNING);
    assert.equal(warned.length, 1);
    assert.equal(warned[0]?.level, 'warn');
    assert.equal(warned[0]?.upstream, 'llm');
  });

  it('does not warn about response headers for answered or unfinished requests', async () => {
    await exchange(200);
    const unfinished = tg.stream();
    await unfinished.send(requestHeaders(LLM));
    await unfinished.send(requestBody('{"mo', false));
    await unfinished.halfClose();
    await openBreaker();
    await exchange(200);
    await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 0);

    assert.equal(tg.logs.find(SKIP_WARNING).length, 0);
  });

  it('records nothing for requests tollgate answered itself', async () => {
    await openBreaker();
    for (let i = 0; i < 5; i++) await exchange(200);
    clock.advance(10_000);

    await exchange(200);
    await exchange(200);

    assert.equal(await metricValue(tg, 'tollgate_breaker_state', state('closed')), 1);
    assert.equal(await metricValue(tg, 'tollgate_breaker_rejections_total', { breaker: 'llm' }), 5);
  });

  it('keeps one breaker per upstream', async () => {
    await openBreaker();

    const other = await exchange(200, { attributes: { 'xds.cluster_name': 'other' } });

    assert.equal(replyKind(other.first), 'request_headers');
  });

  it('falls back to the header, then :authority (any case), without the attribute', async () => {
    for (let i = 0; i < 3; i++) {
      await exchange(500, { headers: { 'x-tollgate-upstream': 'by-header' } } as never);
    }

    const byHeader = await exchange(200, {
      headers: { 'x-tollgate-upstream': 'by-header' },
    } as never);
    const byAuthority = await exchange(200, { authority: 'By-Header' } as never);
    const unrelated = await exchange(200, { authority: 'elsewhere' } as never);

    assert.equal(byHeader.first?.immediate_response?.status.code, 503);
    assert.equal(byAuthority.first?.immediate_response?.status.code, 503);
    assert.equal(replyKind(unrelated.first), 'request_headers');
  });

  it('resets and forces open from the admin port, and shows state on /status', async () => {
    await exchange(200);

    const forced = await tg.admin('/breakers/llm/open', 'POST');
    const whileForced = await exchange(200);
    clock.advance(3_600_000);
    const stillForced = await exchange(200);
    const reset = await tg.admin('/breakers/llm/reset', 'POST');
    const afterReset = await exchange(200);
    const statusPage = JSON.parse((await tg.admin('/status')).text);

    assert.equal(forced.status, 200);
    assert.equal(whileForced.first?.immediate_response?.status.code, 503);
    assert.equal(stillForced.first?.immediate_response?.status.code, 503);
    assert.equal(reset.status, 200);
    assert.equal(replyKind(afterReset.first), 'request_headers');
    const llm = statusPage.breakers.find((b: { name: string }) => b.name === 'llm');
    assert.equal(llm.state, 'closed');
    assert.equal(typeof llm.lastTransitionWallMs, 'number');
  });

  it('says a forced-open breaker stays open until reset', async () => {
    await exchange(200);
    await tg.admin('/breakers/llm/open', 'POST');

    const { first } = await exchange(200);
    const statusPage = JSON.parse((await tg.admin('/status')).text);

    const immediate = first?.immediate_response;
    assert.equal(immediate?.details, 'tollgate_circuit_forced_open');
    const body = JSON.parse(Buffer.from(immediate?.body ?? []).toString());
    assert.match(body.error.message, /opened by an operator and stays open until it is reset/);
    const llm = statusPage.breakers.find((b: { name: string }) => b.name === 'llm');
    assert.equal(llm.forcedOpen, true);
  });

  it('answers 404 for an unknown breaker and 405 with Allow for a GET on a control', async () => {
    const unknown = await tg.admin('/breakers/nope/reset', 'POST');
    const response = await fetch(`http://127.0.0.1:${tg.tollgate.adminPort}/breakers/llm/reset`);

    assert.equal(unknown.status, 404);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  });

  it('answers 400 for a path with broken percent-encoding, without an error log', async () => {
    const broken = await tg.admin('/breakers/%ZZ/reset', 'POST');

    assert.equal(broken.status, 400);
    assert.equal(tg.logs.lines.filter((line) => line.level === 'error').length, 0);
  });

  it('answers HEAD on read-only endpoints', async () => {
    const response = await fetch(`http://127.0.0.1:${tg.tollgate.adminPort}/healthz`, {
      method: 'HEAD',
    });

    assert.equal(response.status, 200);
  });

  it('logs each transition once', async () => {
    await openBreaker();
    clock.advance(10_000);
    await exchange(200);
    await exchange(200);

    const transitions = tg.logs.lines
      .filter((line) => line.breaker === 'llm' && 'to' in line)
      .map((line) => line.to);
    assert.deepEqual(transitions, ['open', 'half_open', 'closed']);
  });
});

function state(name: string) {
  return { breaker: 'llm', state: name };
}

describe('breaker trials whose reply waits on a budget decision', () => {
  let temp: TempDir;

  beforeEach(() => {
    temp = TempDir.create('tollgate-breaker-budget-');
  });
  afterEach(() => temp.remove());

  it("gives the trial's permit back on a reset before the budget's reply", async () => {
    const clock = new FakeClock();
    const tg = await startTestTollgate(
      `${CONFIG}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  decide_at: body
  tenants:
    trial: {period: daily, limit: 100000}
`,
      { clock },
    );
    const streams = new ResettableStreams(tg.tollgate.grpcPort);
    const tenant = { headers: { 'x-tenant-id': 'trial' }, ...LLM };
    try {
      for (let i = 0; i < 3; i++) {
        const stream = tg.stream();
        await stream.send(requestHeaders({ ...tenant, endOfStream: true }));
        await stream.send(responseHeaders(503, {}, true));
        await stream.halfClose();
      }
      clock.advance(10_000);
      const trials = [streams.stream(), streams.stream()];
      for (const trial of trials) await trial.send(requestHeaders(tenant));

      await Promise.all(
        trials.map(async (trial) => {
          trial.post(requestBody('{"model":"gpt-4o-mini","messages":[]}', true));
          await trial.reset();
        }),
      );
      await waitFor(async () => (await metricValue(tg, 'tollgate_extproc_active_streams')) === 0);
      const next = tg.stream();
      const admitted = await next.send(requestHeaders(tenant));
      const heldByNext = await heldPermits(tg);

      assert.equal(replyKind(admitted), 'request_headers');
      assert.equal(heldByNext, 1, 'only the new trial holds a permit');
      await next.cancel();
    } finally {
      streams.close();
      await tg.stop();
    }
  });
});

describe('breaker limits and switches over ext_proc', () => {
  async function failThenProbe(tg: TestTollgate, upstream: string, failures: number) {
    const options = { attributes: { 'xds.cluster_name': upstream } };
    for (let i = 0; i < failures; i++) {
      const stream = tg.stream();
      await stream.send(requestHeaders(options));
      await stream.send(responseHeaders(500, {}, true));
      await stream.halfClose();
    }
    const probe = tg.stream();
    const reply = await probe.send(requestHeaders(options));
    await probe.cancel();
    return reply;
  }

  it('forwards everything when circuit_breakers.enabled is false', async () => {
    const tg = await startTestTollgate('circuit_breakers:\n  enabled: false\n');

    const reply = await failThenProbe(tg, 'llm', 10);
    await tg.stop();

    assert.equal(replyKind(reply), 'request_headers');
  });

  it('leaves upstreams past max_dynamic_breakers unguarded and counts them', async () => {
    const tg = await startTestTollgate(
      'circuit_breakers:\n  max_dynamic_breakers: 1\n  defaults: { failure_threshold: 2 }\n',
    );

    const first = await failThenProbe(tg, 'first', 2);
    const second = await failThenProbe(tg, 'second', 2);
    const unguarded = await metricValue(tg, 'tollgate_breaker_unguarded_total');
    await tg.stop();

    assert.equal(first?.immediate_response?.status.code, 503);
    assert.equal(replyKind(second), 'request_headers');
    assert.equal(unguarded, 3);
    const warned = tg.logs.find('max_dynamic_breakers (1) reached');
    assert.equal(warned.length, 1, 'the cap is logged once, not per request');
    assert.equal(warned[0]?.upstream, 'second');
  });
});
