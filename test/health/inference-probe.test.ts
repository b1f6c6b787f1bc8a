import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import { runInferenceProbe } from '../../src/health/checks/inference-probe.js';
import type { EndpointConfig, InferenceProbeSettings } from '../../src/health/health-config.js';
import type { ProbeClient, ProbeClientOptions } from '../../src/health/probe-client.js';
import { startMockLlm, type MockLlm } from '../../src/mock-llm/mock-llm-server.js';
import { clientFor } from './health-fixtures.js';
import {
  CHAT_COMPLETION,
  COMPLETION,
  ProbeBackend,
  sendJson,
  type BackendHandler,
} from './probe-backend.js';

const PROBE: InferenceProbeSettings = {
  endpoint: '/v1/completions',
  model: 'mock-model',
  prompt: '.',
  maxTokens: 1,
  timeoutMs: 2000,
};

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function backend(handler?: BackendHandler): Promise<ProbeBackend> {
  const started = await ProbeBackend.start(handler);
  cleanup.push(() => started.close());
  return started;
}

function client(
  port: number,
  options: Partial<ProbeClientOptions> = {},
  endpoint: Partial<EndpointConfig> = {},
): ProbeClient {
  const created = clientFor(port, options, endpoint);
  cleanup.push(() => created.close());
  return created;
}

describe('inference_probe', () => {
  it('is healthy when a 2xx carries a well-formed completion', async () => {
    const server = await backend();

    const outcome = await runInferenceProbe(client(server.port), PROBE);

    assert.equal(outcome.verdict.status, 'HEALTHY');
    assert.deepEqual(outcome.verdict.reasons, []);
    assert.equal(outcome.completionLatencyMs, outcome.latencyMs);
    assert.equal(outcome.response?.status, 200);
  });

  it('sends the model, prompt and max_tokens as a completions request', async () => {
    const server = await backend();
    const probeClient = client(server.port, { headers: { authorization: 'Bearer k' } });

    await runInferenceProbe(probeClient, {
      ...PROBE,
      model: 'llama-3',
      prompt: 'ping',
      maxTokens: 3,
    });

    const [request] = server.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/v1/completions');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.authorization, 'Bearer k');
    assert.deepEqual(JSON.parse(request?.body ?? ''), {
      model: 'llama-3',
      max_tokens: 3,
      stream: false,
      prompt: 'ping',
    });
  });

  it('sends one user message when the endpoint is a chat endpoint', async () => {
    const server = await backend((_request, response) => sendJson(response, 200, CHAT_COMPLETION));

    const outcome = await runInferenceProbe(client(server.port), {
      ...PROBE,
      endpoint: '/v1/chat/completions',
      prompt: 'hi',
    });

    assert.equal(outcome.verdict.status, 'HEALTHY');
    assert.equal(server.requests[0]?.path, '/v1/chat/completions');
    assert.deepEqual(JSON.parse(server.requests[0]?.body ?? ''), {
      model: 'mock-model',
      max_tokens: 1,
      stream: false,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('sends the endpoint hostname as the Host header', async () => {
    const server = await backend();

    await runInferenceProbe(client(server.port, {}, { hostname: 'gpu-1.internal' }), PROBE);

    assert.equal(server.requests[0]?.headers.host, 'gpu-1.internal');
  });

  const unhealthy: Array<{ what: string; status: number; body: string; detail: RegExp }> = [
    { what: 'a 500', status: 500, body: '{"error":"boom"}', detail: /^HTTP 500$/ },
    { what: 'a 404', status: 404, body: '{}', detail: /^HTTP 404$/ },
    { what: 'a 3xx', status: 302, body: '', detail: /^HTTP 302$/ },
    { what: 'a body that is not JSON', status: 200, body: 'OK', detail: /not JSON/ },
    { what: 'a JSON list', status: 200, body: '[1]', detail: /not a JSON object: \[1\]/ },
    { what: 'no choices', status: 200, body: '{"id":"x"}', detail: /choices is missing/ },
    { what: 'empty choices', status: 200, body: '{"choices":[]}', detail: /choices is \[\]/ },
    {
      what: 'a choice without text or message',
      status: 200,
      body: '{"choices":[{"index":0}]}',
      detail: /neither text nor message/,
    },
  ];

  for (const { what, status, body, detail } of unhealthy) {
    it(`is unhealthy on ${what}, saying why`, async () => {
      const server = await backend((_request, response) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body);
      });

      const outcome = await runInferenceProbe(client(server.port), PROBE);

      assert.equal(outcome.verdict.status, 'UNHEALTHY');
      const [reason] = outcome.verdict.reasons;
      assert.equal(reason?.check, 'inference_probe');
      assert.match(reason?.detail ?? '', detail);
      assert.equal(outcome.completionLatencyMs, undefined, 'no completion for warmth to read');
    });
  }

  it('is unhealthy when a good answer is slower than max_latency_ms', async () => {
    const server = await backend(async (_request, response) => {
      await sleep(120);
      sendJson(response, 200, COMPLETION);
    });

    const outcome = await runInferenceProbe(client(server.port), { ...PROBE, maxLatencyMs: 40 });

    assert.equal(outcome.verdict.status, 'UNHEALTHY');
    const [reason] = outcome.verdict.reasons;
    assert.match(reason?.detail ?? '', /answered in \d+ ms, over max_latency_ms 40/);
    assert.ok(Number(reason?.value) >= 100, `value ${reason?.value} is the latency`);
    assert.ok((outcome.completionLatencyMs ?? 0) >= 100, 'warmth still sees the latency');
  });

  it('is healthy when a good answer is within max_latency_ms', async () => {
    const server = await backend();

    const outcome = await runInferenceProbe(client(server.port), { ...PROBE, maxLatencyMs: 1000 });

    assert.equal(outcome.verdict.status, 'HEALTHY');
  });
});

describe('inference_probe against the mock LLM backend', () => {
  let mock: MockLlm;

  async function startMock(): Promise<MockLlm> {
    mock = await startMockLlm({});
    cleanup.push(() => mock.close());
    return mock;
  }

  for (const endpoint of ['/v1/completions', '/v1/chat/completions']) {
    it(`is healthy on ${endpoint}`, async () => {
      const server = await startMock();

      const outcome = await runInferenceProbe(client(server.port), { ...PROBE, endpoint });

      assert.equal(outcome.verdict.status, 'HEALTHY', JSON.stringify(outcome.verdict));
    });
  }

  it('is unhealthy while the model loads, and healthy once it is ready', async () => {
    const server = await startMock();
    const probeClient = client(server.port);

    server.control({ model_status: { 'mock-model': 'loading' } });
    const loading = await runInferenceProbe(probeClient, PROBE);
    server.control({ model_status: 'ready' });
    const ready = await runInferenceProbe(probeClient, PROBE);

    assert.equal(loading.verdict.status, 'UNHEALTHY');
    assert.match(loading.verdict.reasons[0]?.detail ?? '', /HTTP 503/);
    assert.equal(ready.verdict.status, 'HEALTHY');
  });
});
