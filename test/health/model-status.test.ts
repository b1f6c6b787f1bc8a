import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { runModelStatus } from '../../src/health/checks/model-status.js';
import type { ModelStatusSettings } from '../../src/health/health-config.js';
import { startMockLlm } from '../../src/mock-llm/mock-llm-server.js';
import { clientFor } from './health-fixtures.js';
import { ProbeBackend, sendJson, type BackendHandler } from './probe-backend.js';

const STATUS: ModelStatusSettings = {
  endpointPattern: '/v1/models/{model}/status',
  models: ['llama-3-8b', 'llama-3-70b'],
  expectedStatus: 'ready',
  statusField: 'status',
  timeoutMs: 2000,
};

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Runs the check against a backend answering with `handler`; returns the verdict and backend. */
async function check(handler: BackendHandler, settings: Partial<ModelStatusSettings> = {}) {
  const server = await ProbeBackend.start(handler);
  const client = clientFor(server.port);
  cleanup.push(
    () => server.close(),
    () => client.close(),
  );

  const verdict = await runModelStatus(client, { ...STATUS, ...settings });
  return { verdict, server };
}

/** A backend where each model's status document is `documents[model]`; others get 404. */
function statusDocuments(documents: Record<string, unknown>): BackendHandler {
  return (request, response) => {
    const model = decodeURIComponent(request.path.split('/')[3] ?? '');
    if (model in documents) sendJson(response, 200, documents[model]);
    else sendJson(response, 404, { error: 'model not found' });
  };
}

describe('model_status', () => {
  it('asks about every model, substituting each for {model}, one request at a time', async () => {
    const { verdict, server } = await check(
      statusDocuments({ a: { status: 'ready' }, 'org/b c': { status: 'ready' } }),
      { models: ['a', 'org/b c'] },
    );

    assert.equal(verdict.status, 'HEALTHY');
    assert.deepEqual(
      server.requests.map((request) => [request.method, request.path]),
      [
        ['GET', '/v1/models/a/status'],
        ['GET', '/v1/models/org%2Fb%20c/status'],
      ],
    );
    assert.equal(server.maxInFlight, 1);
  });

  const fields: Array<{ what: string; field: string; expected: string; document: unknown }> = [
    {
      what: 'a top-level field',
      field: 'status',
      expected: 'ready',
      document: { status: 'ready' },
    },
    {
      what: 'a nested field',
      field: 'data.state',
      expected: 'loaded',
      document: { data: { state: 'loaded' } },
    },
    {
      what: 'an array index',
      field: 'data.0.state',
      expected: 'loaded',
      document: { data: [{ state: 'loaded' }] },
    },
    { what: 'a boolean', field: 'ready', expected: 'true', document: { ready: true } },
    { what: 'a number', field: 'replicas', expected: '1', document: { replicas: 1 } },
  ];

  for (const { what, field, expected, document } of fields) {
    it(`is healthy when ${what} (${field}) equals expected_status`, async () => {
      const result = await check(
        statusDocuments({ 'llama-3-8b': document, 'llama-3-70b': document }),
        { statusField: field, expectedStatus: expected },
      );

      assert.equal(result.verdict.status, 'HEALTHY', JSON.stringify(result.verdict));
    });
  }

  it('is unhealthy when a dotted field holds another value, naming the model', async () => {
    const { verdict } = await check(
      statusDocuments({
        'llama-3-8b': { data: { state: 'loaded' } },
        'llama-3-70b': { data: { state: 'loading' } },
      }),
      { statusField: 'data.state', expectedStatus: 'loaded' },
    );

    assert.equal(verdict.status, 'UNHEALTHY');
    assert.deepEqual(verdict.reasons, [
      {
        check: 'model_status',
        status: 'UNHEALTHY',
        detail: 'model llama-3-70b: data.state is loading, expected loaded',
        value: 'loading',
      },
    ]);
  });

  it('is unhealthy when a model is lost, with one reason per lost model', async () => {
    const { verdict } = await check(statusDocuments({}), { models: ['a', 'b'] });

    assert.equal(verdict.status, 'UNHEALTHY');
    assert.deepEqual(
      verdict.reasons.map((reason) => reason.detail),
      ['model a: not found (HTTP 404)', 'model b: not found (HTTP 404)'],
    );
  });

  const broken: Array<{ what: string; handler: BackendHandler; detail: RegExp }> = [
    {
      what: 'the field is missing',
      handler: statusDocuments({ 'llama-3-8b': { state: 'ready' }, 'llama-3-70b': {} }),
      detail: /model llama-3-8b: status is missing, expected ready/,
    },
    {
      what: 'the body is not JSON',
      handler: (_request, response) => void response.end('ready'),
      detail: /model llama-3-8b: the status body is not JSON/,
    },
    {
      what: 'the backend answers 500',
      handler: (_request, response) => sendJson(response, 500, {}),
      detail: /model llama-3-8b: HTTP 500/,
    },
  ];

  for (const { what, handler, detail } of broken) {
    it(`is unhealthy when ${what}`, async () => {
      const { verdict } = await check(handler);

      assert.equal(verdict.status, 'UNHEALTHY');
      assert.match(verdict.reasons[0]?.detail ?? '', detail);
    });
  }

  it('reads the mock LLM backend: a model unloading, then one it does not serve', async () => {
    const mock = await startMockLlm({ models: ['mock-model', 'gpt-4o'] });
    const client = clientFor(mock.port);
    cleanup.push(
      () => mock.close(),
      () => client.close(),
    );
    const settings = {
      ...STATUS,
      endpointPattern: '/v1/models/{model}',
      models: ['mock-model', 'gpt-4o'],
    };

    const ready = await runModelStatus(client, settings);
    mock.control({ model_status: { 'gpt-4o': 'loading' } });
    const loading = await runModelStatus(client, settings);
    const lost = await runModelStatus(client, { ...settings, models: ['mock-model', 'gone'] });

    assert.equal(ready.status, 'HEALTHY');
    assert.deepEqual(
      loading.reasons.map((reason) => reason.detail),
      ['model gpt-4o: status is loading, expected ready'],
    );
    assert.deepEqual(
      lost.reasons.map((reason) => reason.detail),
      ['model gone: not found (HTTP 404)'],
    );
  });
});
