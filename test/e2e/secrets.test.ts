import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { EnvoyStream, extProcClient } from '../helpers/envoy-client.js';
import {
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from '../helpers/envoy-messages.js';
import { checkRequest, extAuthzClient } from '../helpers/ext-authz-client.js';
import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess } from '../helpers/tollgate-process.js';
import { waitFor } from '../helpers/wait.js';

/** Secrets planted in the run; none may appear in anything tollgate writes or answers. */
const SECRET = {
  authorization: 'sk-planted-authorization-4f1c',
  xApiKey: 'planted-x-api-key-77aa',
  googApiKey: 'planted-goog-api-key-19be',
  customKey: 'planted-custom-key-5d0e',
  webhookToken: 'planted-webhook-token-c3f2',
  webhookPath: 'planted-webhook-path-0a9d',
  adminToken: 'planted-admin-token-e6b4',
  wrongAdminToken: 'planted-wrong-admin-token-2b81',
  probeKey: 'planted-probe-key-8c5e',
};

/** Each request carries one API key, in one of the headers the config reads keys from. */
const KEY_HEADERS: Array<Record<string, string>> = [
  { authorization: `Bearer ${SECRET.authorization}` },
  { 'x-api-key': SECRET.xApiKey },
  { 'x-goog-api-key': SECRET.googApiKey },
  { 'x-llm-key': SECRET.customKey },
];

const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"secret?"}]}';
const COMPLETION = JSON.stringify({
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'no' } }],
  usage: { prompt_tokens: 400, completion_tokens: 100, total_tokens: 500 },
});

/** A local HTTP server that records what it receives and answers with `answer`. */
async function listen(
  answer: (headers: IncomingHttpHeaders, calls: number) => { status: number; body: string },
): Promise<{ server: Server; port: number; received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    const { status, body } = answer(req.headers, received.length);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, received };
}

describe('secrets in a full run of the tollgate process at debug level', () => {
  let temp: TempDir;
  let tollgate: TollgateProcess;
  let webhook: Awaited<ReturnType<typeof listen>>;
  let backend: Awaited<ReturnType<typeof listen>>;
  /** Everything tollgate answered: admin bodies and headers, ext_proc and ext_authz answers. */
  const answers: string[] = [];

  before(async () => {
    temp = TempDir.create('tollgate-secrets-');
    // The webhook fails the first alert's two attempts, so its retry and failure paths run too.
    webhook = await listen((_, calls) => ({ status: calls <= 2 ? 500 : 204, body: '' }));
    // A hostile backend that echoes the probe's key back in its answer.
    backend = await listen((headers) => ({
      status: 200,
      body: JSON.stringify({ choices: String(headers.authorization) }),
    }));
    const config = temp.write(
      'tollgate.yaml',
      `logging: {level: debug}
server:
  admin_auth: {token: {env: TOLLGATE_ADMIN_TOKEN}}
tenants:
  sources:
    - {api_key_header: x-llm-key}
    - {api_key_header: authorization}
    - {api_key_header: x-api-key}
    - {api_key_header: x-goog-api-key}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  tenants:
    default: {period: daily, limit: 1200, alert_thresholds: [0.4, 0.8]}
  alerts:
    webhook:
      url: http://127.0.0.1:${webhook.port}/hooks/${SECRET.webhookPath}
      retries: 1
      backoff_ms: 10
      headers:
        authorization: {env: WEBHOOK_TOKEN}
clusters:
  - name: llm
    endpoints: [{address: 127.0.0.1, port: ${backend.port}}]
    checks:
      interval: 100ms
      headers: {authorization: "Bearer ${SECRET.probeKey}"}
      inference_probe: {model: m}
`,
    );
    tollgate = await TollgateProcess.start(['--config', config, ...EPHEMERAL], {
      env: {
        TOLLGATE_ADMIN_TOKEN: SECRET.adminToken,
        WEBHOOK_TOKEN: `Bearer ${SECRET.webhookToken}`,
      },
    });

    await driveTraffic();
    await driveAdmin();
    await waitFor(() => webhook.received.length >= 3, 5000);
    await waitFor(() => backend.received.length >= 2, 5000);
    answers.push((await admin('GET', '/health')).text);

    tollgate.kill('SIGTERM');
    await tollgate.exited;
  });
  after(async () => {
    webhook.server.close();
    backend.server.close();
    temp.remove();
  });

  /** Exchanges with each key until the budgets are spent, ext_authz checks, a protocol error. */
  async function driveTraffic(): Promise<void> {
    const client = extProcClient(tollgate.grpcPort);
    const authz = extAuthzClient(tollgate.grpcPort);
    for (const headers of KEY_HEADERS) {
      for (let round = 0; round < 4; round++) {
        const stream = new EnvoyStream(client);
        answers.push(JSON.stringify(await stream.send(requestHeaders({ headers }))));
        const body = await stream.send(requestBody(CHAT, true));
        answers.push(JSON.stringify(body));
        if (!body?.immediate_response) {
          await stream.send(responseHeaders(200));
          answers.push(JSON.stringify(await stream.send(responseBody(COMPLETION, true))));
        }
        answers.push(JSON.stringify(await stream.halfClose()));
      }
      answers.push(JSON.stringify(await authz.check(checkRequest({ headers, body: CHAT }))));

      // A message sequence Envoy never sends: a warn line and an error status.
      const broken = new EnvoyStream(client);
      await broken.send(requestHeaders({ headers }));
      broken.post(requestHeaders({ headers }));
      answers.push(JSON.stringify(await broken.status));
    }
    authz.close();
    client.close();
  }

  async function admin(method: string, path: string, token?: string) {
    const response = await fetch(`http://127.0.0.1:${tollgate.adminPort}${path}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    answers.push(text, JSON.stringify([...response.headers]));
    return { status: response.status, text };
  }

  async function driveAdmin(): Promise<void> {
    for (const path of ['/metrics', '/status', '/budgets', '/health', '/healthz', '/readyz']) {
      assert.equal((await admin('GET', path)).status, 200, path);
    }
    const { text } = await admin('GET', '/budgets');
    for (const { key } of JSON.parse(text) as Array<{ key: string }>) {
      await admin('GET', `/budgets/${key}`);
    }
    assert.equal(
      (await admin('POST', '/breakers/llm.internal/open', SECRET.adminToken)).status,
      200,
    );
    assert.equal(
      (await admin('POST', '/breakers/llm.internal/reset', SECRET.wrongAdminToken)).status,
      401,
    );
    assert.equal((await admin('POST', '/breakers/llm.internal/reset')).status, 401);
    assert.equal(
      (await admin('POST', '/breakers/llm.internal/reset', SECRET.adminToken)).status,
      200,
    );
    assert.equal((await admin('POST', '/budgets/anonymous/reset', SECRET.adminToken)).status, 200);
  }

  it('drove keys to budgets, alerts to the webhook, probes with their key', () => {
    assert.ok(
      answers.some((text) => text.includes('budget_exhausted')),
      'a budget ran out',
    );
    assert.equal(webhook.received[0]?.authorization, `Bearer ${SECRET.webhookToken}`);
    assert.equal(backend.received[0]?.authorization, `Bearer ${SECRET.probeKey}`);
    assert.ok(tollgate.logLines().some((line) => line.level === 'debug'));
    const messages = tollgate.logLines().map((line) => String(line.msg));
    assert.ok(messages.some((msg) => msg.includes('alert webhook failed')));
    assert.ok(messages.some((msg) => msg.includes('% of its token budget')));
  });

  for (const [name, value] of Object.entries(SECRET)) {
    it(`never writes or answers the ${name}`, () => {
      const outputs = { stdout: tollgate.stdout, stderr: tollgate.stderr, answers };
      for (const [where, texts] of Object.entries(outputs)) {
        const found = texts.find((text) => text.includes(value));
        assert.equal(found, undefined, `${name} in ${where}`);
      }
    });
  }
});
