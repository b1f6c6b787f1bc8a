import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';

import { AlertWebhook, MAX_QUEUED_ALERTS } from '../../src/budget/alert-webhook.js';
import type { BudgetAlert } from '../../src/budget/budget-alert.js';
import type { AlertWebhookConfig } from '../../src/budget/budgets-config.js';
import { SecretValue } from '../../src/config/secret-value.js';
import { LogSink } from '../helpers/log-sink.js';

const ALERT: BudgetAlert = {
  tenant: 'acme',
  threshold: 0.8,
  used: 800,
  limit: 1000,
  periodStart: '2031-01-10T00:00:00.000Z',
  periodEnd: '2031-01-11T00:00:00.000Z',
};

const TOKEN = 'hook-secret-7d1f';

interface Received {
  body: unknown;
  headers: IncomingMessage['headers'];
}

/** A webhook receiver that answers each POST with the next of `statuses` ('hang': never). */
async function receiver(statuses: Array<number | 'hang'>) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(text), headers: req.headers });
      const status = statuses.shift() ?? 200;
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  return { server, url, received };
}

function settings(url: string, overrides: Partial<AlertWebhookConfig> = {}): AlertWebhookConfig {
  return {
    url,
    timeoutMs: 200,
    retries: 2,
    backoffMs: 10,
    headers: new Map([['authorization', new SecretValue(`Bearer ${TOKEN}`)]]),
    ...overrides,
  };
}

describe('AlertWebhook', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('POSTs the alert as JSON with the configured headers, without waiting in send', async () => {
    const hook = await receiver([200]);
    servers.push(hook.server);
    const logs = new LogSink();
    const webhook = new AlertWebhook(settings(hook.url), logs.logger);

    assert.equal(webhook.send(ALERT), true);
    assert.equal(hook.received.length, 0, 'send only queues');
    await webhook.idle();

    assert.deepEqual(hook.received[0]?.body, {
      tenant: 'acme',
      threshold: 0.8,
      used: 800,
      limit: 1000,
      period_start: '2031-01-10T00:00:00.000Z',
      period_end: '2031-01-11T00:00:00.000Z',
    });
    assert.equal(hook.received[0]?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(hook.received[0]?.headers['content-type'], 'application/json');
  });

  it('retries a failed delivery and stops at the first success', async () => {
    const hook = await receiver([500, 503, 200]);
    servers.push(hook.server);
    const webhook = new AlertWebhook(settings(hook.url), new LogSink().logger);

    webhook.send(ALERT);
    await webhook.idle();
    assert.equal(hook.received.length, 3);
  });

  it('gives up after the retries with one warn line that holds no secret', async () => {
    const hook = await receiver(['hang', 500, 500]);
    servers.push(hook.server);
    const logs = new LogSink();
    const webhook = new AlertWebhook(settings(hook.url), logs.logger);

    const started = Date.now();
    webhook.send(ALERT);
    await webhook.idle();

    assert.equal(hook.received.length, 3);
    assert.ok(Date.now() - started < 2000, 'a hanging receiver is cut by the timeout');
    const [line, ...more] = logs.find('budget alert webhook failed');
    assert.equal(more.length, 0);
    assert.equal(line?.attempts, 3);
    assert.ok(!logs.raw.join('').includes(TOKEN), 'the header value is never logged');
  });

  it('says why when the receiver is unreachable', async () => {
    const logs = new LogSink();
    const webhook = new AlertWebhook(
      settings('http://127.0.0.1:9/alerts', { retries: 0 }),
      logs.logger,
    );
    webhook.send(ALERT);
    await webhook.idle();
    assert.match(String(logs.find('budget alert webhook failed')[0]?.reason), /ECONNREFUSED/);
  });

  it('drops new alerts past the queue bound with one warning, and none after close', async () => {
    const hook = await receiver(Array.from({ length: 2000 }, () => 'hang' as const));
    servers.push(hook.server);
    const logs = new LogSink();
    const webhook = new AlertWebhook(settings(hook.url, { retries: 0 }), logs.logger);

    const accepted = Array.from({ length: 1100 }, () => webhook.send(ALERT));
    // One alert is in flight (taken off the queue) and MAX_QUEUED_ALERTS wait.
    assert.equal(accepted.filter(Boolean).length, MAX_QUEUED_ALERTS + 1);
    assert.equal(logs.find('falling behind').length, 1);

    await webhook.close();
    assert.equal(webhook.send(ALERT), false);
  });
});
