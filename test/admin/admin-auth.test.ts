import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

const TOKEN = 'planted-admin-token-5f1c';

function serverYaml(adminHost: string, auth = ''): string {
  return (
    `server:\n  grpc_address: 127.0.0.1:0\n  admin_address: ${adminHost}:0\n` +
    `  drain_timeout_seconds: 1\n${auth}` +
    'circuit_breakers:\n  upstreams:\n    llm: {}\n'
  );
}

describe('admin port authentication', () => {
  let tg: TestTollgate | undefined;
  afterEach(async () => tg?.stop());

  async function call(path: string, method = 'GET', token?: string) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(`http://127.0.0.1:${tg!.tollgate.adminPort}${path}`, {
      method,
      headers,
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  it('leaves everything open on loopback when no token is configured', async () => {
    tg = await startTestTollgate(serverYaml('127.0.0.1'));

    assert.equal((await call('/breakers/llm/open', 'POST')).status, 200);
    assert.equal((await call('/status')).status, 200);
  });

  it('refuses controls (403) beyond loopback without a token, and keeps reads open', async () => {
    tg = await startTestTollgate(serverYaml('0.0.0.0'));

    const reset = await call('/breakers/llm/reset', 'POST');
    const budget = await call('/budgets/acme/reset', 'POST');

    assert.equal(reset.status, 403);
    assert.match(reset.text, /server\.admin_auth\.token/);
    assert.equal(budget.status, 403);
    assert.equal((await call('/status')).status, 200);
    assert.equal((await call('/metrics')).status, 200);
  });

  it('asks controls for the bearer token once one is configured', async () => {
    const auth = `  admin_auth: {token: {value: ${TOKEN}}}\n`;
    tg = await startTestTollgate(serverYaml('0.0.0.0', auth));

    const missing = await call('/breakers/llm/open', 'POST');
    const wrong = await call('/breakers/llm/open', 'POST', `${TOKEN}x`);
    const right = await call('/breakers/llm/open', 'POST', TOKEN);

    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(wrong.status, 401);
    assert.equal(right.status, 200);
    assert.equal(JSON.parse(right.text).forcedOpen, true);
    assert.equal((await call('/status')).status, 200, 'reads stay open by default');
  });

  it('asks reads for the token with protect_reads, but never the probes', async () => {
    const auth = `  admin_auth: {token: {value: ${TOKEN}}, protect_reads: true}\n`;
    tg = await startTestTollgate(serverYaml('127.0.0.1', auth));

    assert.equal((await call('/status')).status, 401);
    assert.equal((await call('/metrics')).status, 401);
    assert.equal((await call('/status', 'GET', TOKEN)).status, 200);
    assert.equal((await call('/healthz')).status, 200);
    assert.equal((await call('/readyz')).status, 200);
  });

  it('reads the token from an environment variable, and never shows it', async () => {
    process.env.TOLLGATE_TEST_ADMIN_TOKEN = TOKEN;
    try {
      const auth = '  admin_auth: {token: {env: TOLLGATE_TEST_ADMIN_TOKEN}}\n';
      tg = await startTestTollgate(serverYaml('0.0.0.0', auth));
    } finally {
      delete process.env.TOLLGATE_TEST_ADMIN_TOKEN;
    }

    assert.equal((await call('/breakers/llm/reset', 'POST', TOKEN)).status, 200);
    assert.equal((await call('/breakers/llm/reset', 'POST', 'guess')).status, 401);
    const shown = [(await call('/status')).text, (await call('/metrics')).text, ...tg.logs.raw];
    assert.doesNotMatch(shown.join('\n'), new RegExp(TOKEN));
    const refused = (await call('/metrics')).text;
    assert.match(refused, /tollgate_admin_refused_total\{status="401"\} 1/);
  });
});

describe('server.admin_auth config', () => {
  it('rejects a token from an environment variable that is not set', () => {
    const result = parseConfigText(
      'server:\n  admin_auth: {token: {env: TOLLGATE_SURELY_UNSET}}\n',
      'test.yaml',
    );

    assert.equal(result.ok, false);
    assert.match(JSON.stringify(result), /TOLLGATE_SURELY_UNSET is not set/);
  });

  it('rejects a token shorter than 16 characters, from the file or the environment', () => {
    const short = parseConfigText('server:\n  admin_auth: {token: {value: short}}\n', 'test.yaml');
    process.env.TOLLGATE_ADMIN_TOKEN = 'also-short';
    const fromEnv = parseConfigText('', 'test.yaml');
    delete process.env.TOLLGATE_ADMIN_TOKEN;

    assert.equal(short.ok, false);
    assert.match(JSON.stringify(short), /at least 16 characters/);
    assert.equal(fromEnv.ok, false);
    assert.match(JSON.stringify(fromEnv), /TOLLGATE_ADMIN_TOKEN\) must be at least 16/);
  });

  it('reads a section written with nothing under it as its defaults', () => {
    const result = parseConfigText('server:\nlogging:\n', 'test.yaml');

    assert.equal(result.ok, true, JSON.stringify(result));
  });
});
