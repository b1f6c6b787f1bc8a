import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';

import {
  startMockLlm,
  type MockLlm,
  type MockLlmOptions,
} from '../../src/mock-llm/mock-llm-server.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { call } from './mock-llm-client.js';

const CHAT = '/v1/chat/completions';
const REQUEST = { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };

let mock: MockLlm | undefined;

afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function start(options: MockLlmOptions = {}): Promise<MockLlm> {
  mock = await startMockLlm(options);
  return mock;
}

/** Sends a chat request, waits for the mock to start waiting, and returns both. */
async function delayedCall(server: MockLlm) {
  const delayed = once(server.events, 'delay');
  const answer = call(server.url, CHAT, REQUEST);
  const [delay] = (await delayed) as [{ ms: number; reason: string }];
  return { delay, answer };
}

describe('mock LLM latency and cold starts', () => {
  it('waits latency_ms on its clock before answering', async () => {
    const clock = new FakeClock();
    const server = await start({ clock, latencyMs: 250 });

    const { delay, answer } = await delayedCall(server);
    assert.deepEqual(delay, { ms: 250, reason: 'latency' });
    clock.advance(250);

    assert.equal((await answer).status, 200);
  });

  it('adds cold_start_ms to the first request, and again after idle_timeout_ms', async () => {
    const clock = new FakeClock();
    const server = await start({ clock, latencyMs: 10, coldStartMs: 2000, idleTimeoutMs: 60_000 });

    const first = await delayedCall(server);
    assert.deepEqual(first.delay, { ms: 2010, reason: 'cold_start' });
    clock.advance(2010);
    assert.equal((await first.answer).headers.get('x-mock-cold-start'), 'true');

    clock.advance(59_000);
    const warm = await delayedCall(server);
    assert.deepEqual(warm.delay, { ms: 10, reason: 'latency' });
    clock.advance(10);
    assert.equal((await warm.answer).headers.get('x-mock-cold-start'), null);

    clock.advance(60_000);
    const cold = await delayedCall(server);
    assert.equal(cold.delay.reason, 'cold_start');
    clock.advance(2010);
    await cold.answer;
    assert.equal(server.stats().coldStarts, 2);
  });

  it('spaces streamed events chunk_interval_ms apart', async () => {
    const clock = new FakeClock();
    const server = await start({ clock, chunkIntervalMs: 100 });
    const gaps: number[] = [];
    server.events.on('delay', ({ ms, reason }) => {
      if (reason === 'chunk') gaps.push(ms);
      clock.advance(ms);
    });

    const answer = await call(server.url, CHAT, { ...REQUEST, stream: true });

    assert.equal(answer.status, 200);
    assert.deepEqual(gaps, [100, 100, 100, 100]);
  });
});

describe('mock LLM failures', () => {
  it('fails the next fail_next requests, then recovers', async () => {
    const server = await start({ failNext: 2, failureStatus: 503 });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(server.url, CHAT, REQUEST)).status);

    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal(server.stats().failures, 2);
  });

  it('fails about failure_rate of requests, the same ones for the same seed', async () => {
    const run = async () => {
      const server = await startMockLlm({ failureRate: 0.3, seed: 7 });
      const statuses = [];
      for (let i = 0; i < 40; i++) statuses.push((await call(server.url, CHAT, REQUEST)).status);
      await server.close();
      return statuses;
    };

    const first = await run();
    const second = await run();
    const failures = first.filter((status) => status === 500).length;

    assert.deepEqual(first, second);
    assert.ok(failures >= 4 && failures <= 20, `${failures} of 40 failed`);
  });

  it('answers an injected failure in OpenAI error shape with the queue depth header', async () => {
    const server = await start({ failNext: 1, queueDepth: 7 });

    const answer = await call(server.url, CHAT, REQUEST);

    assert.equal(answer.status, 500);
    assert.equal(answer.headers.get('x-queue-depth'), '7');
    assert.equal(answer.json().error.code, 'mock_failure');
  });

  it('refuses options out of range, naming them', async () => {
    await assert.rejects(
      startMockLlm({ failureRate: 2, failureStatus: 404 }),
      (error: Error) =>
        error instanceof RangeError &&
        /failure_rate/.test(error.message) &&
        /failure_status/.test(error.message),
    );
  });
});

describe('mock LLM status and control endpoints', () => {
  it('reports each model ready or loading, and refuses inference while loading', async () => {
    const server = await start({ queueDepth: 3 });
    server.control({ model_status: { 'mock-model': 'loading' } });

    const status = (await call(server.url, '/v1/models/mock-model')).json();
    const other = (await call(server.url, '/v1/models/gpt-4o')).json();
    const refused = await call(server.url, CHAT, REQUEST);

    assert.deepEqual([status.status, status.ready, status.queue_depth], ['loading', false, 3]);
    assert.equal(other.status, 'ready');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(refused.json().error.code, 'model_loading');
  });

  it('counts requests in flight in the queue depth', async () => {
    const clock = new FakeClock();
    const server = await start({ clock, latencyMs: 100, queueDepth: 2 });

    const { answer } = await delayedCall(server);
    const health = (await call(server.url, '/health')).json();
    clock.advance(100);

    assert.deepEqual(health, { status: 'ok', queue_depth: 3 });
    assert.equal((await answer).headers.get('x-queue-depth'), '2');
  });

  it('changes behaviour through POST /control and shows it on GET /control', async () => {
    const server = await start();

    const posted = await call(server.url, '/control', {
      fail_next: 1,
      latency_ms: 0,
      model_status: 'loading',
    });
    const shown = (await call(server.url, '/control')).json();

    assert.equal(posted.status, 200);
    assert.equal(shown.settings.fail_next, 1);
    assert.ok(Object.values(shown.settings.model_status).every((status) => status === 'loading'));
    assert.equal(shown.stats.inferenceRequests, 0);
  });

  it('rejects a bad control body with every problem and changes nothing', async () => {
    const server = await start();

    const answer = await call(server.url, '/control', { failure_rate: -1, latency: 5 });

    assert.equal(answer.status, 400);
    assert.deepEqual(
      answer
        .json()
        .problems.map((problem: { path: string }) => problem.path)
        .sort(),
      ['', 'failure_rate'],
    );
    assert.equal(server.settings().failureRate, 0);
    assert.throws(() => server.control({ latency_ms: -1 }), /latency_ms/);
  });

  it('resets to the start settings, cold again, with POST /control/reset', async () => {
    const server = await start({ coldStartMs: 1, idleTimeoutMs: 600_000 });
    await call(server.url, CHAT, REQUEST);
    server.control({ failure_rate: 1 });

    const reset = await call(server.url, '/control/reset', {});
    const answer = await call(server.url, CHAT, REQUEST);

    assert.equal(reset.json().settings.failure_rate, 0);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('x-mock-cold-start'), 'true');
  });

  it('lists its models', async () => {
    const server = await start({ models: ['a', 'b/c'] });

    const list = (await call(server.url, '/v1/models')).json();
    const nested = await call(server.url, '/v1/models/b/c');

    assert.deepEqual(
      list.data.map((model: { id: string }) => model.id),
      ['a', 'b/c'],
    );
    assert.equal(nested.json().id, 'b/c');
  });
});
