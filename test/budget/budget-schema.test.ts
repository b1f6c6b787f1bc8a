import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';

function problemsOf(yaml: string) {
  const result = parseConfigText(yaml, 'budgets.yaml');
  assert.ok(!result.ok, 'the config should be rejected');
  return result.problems;
}

const budgets = (lines: string) => `budgets:\n  enabled: true\n${lines}`;

describe('budgets: config', () => {
  it('fills the defaults of a budget entry', () => {
    const result = parseConfigText(
      budgets('  tenants:\n    acme: {period: daily, limit: 5}\n'),
      'x',
    );
    assert.ok(result.ok);
    const rule = result.config.budgets.tenants.get('acme');
    assert.deepEqual(rule, {
      period: { kind: 'daily' },
      limit: 5,
      alertThresholds: [0.8, 0.9, 0.95],
      enforce: true,
      rollover: false,
      burstAllowance: 0,
      count: ['input', 'output'],
    });
    assert.equal(result.config.budgets.failOpen, true);
    assert.equal(result.config.budgets.store.backend, 'embedded');
  });

  const rejected = [
    {
      name: 'thresholds out of order',
      yaml: budgets('  tenants:\n    a: {period: daily, limit: 5, alert_thresholds: [0.9, 0.8]}\n'),
      path: 'budgets.tenants.a.alert_thresholds',
      message: /strictly ascending/,
    },
    {
      name: 'an unknown period',
      yaml: budgets('  tenants:\n    a: {period: weekly, limit: 5}\n'),
      path: 'budgets.tenants.a.period',
      message: /hourly, daily, monthly or \{custom_seconds: N\}/,
    },
    {
      name: 'a fractional limit',
      yaml: budgets('  tenants:\n    a: {period: daily, limit: 2.5}\n'),
      path: 'budgets.tenants.a.limit',
      message: /whole number/,
    },
    {
      name: 'token kinds that count the same tokens twice',
      yaml: budgets('  tenants:\n    a: {period: daily, limit: 5, count: [input, cached_input]}\n'),
      path: 'budgets.tenants.a.count',
      message: /input already includes cached_input/,
    },
    {
      name: 'a burst allowance over 1',
      yaml: budgets('  tenants:\n    a: {period: daily, limit: 5, burst_allowance: 2}\n'),
      path: 'budgets.tenants.a.burst_allowance',
      message: /at most 1/,
    },
    {
      name: 'a redis URL of another scheme',
      yaml: budgets('  store: {backend: redis, url: "http://cache:6379"}\n'),
      path: 'budgets.store.url',
      message: /redis:\/\/host:port/,
    },
    {
      name: 'a webhook header from an unset environment variable',
      yaml: budgets(
        '  alerts:\n    webhook:\n      url: http://hooks.invalid/a\n' +
          '      headers: {authorization: {env: TOLLGATE_TEST_UNSET_TOKEN}}\n',
      ),
      path: 'budgets.alerts.webhook.headers.authorization.env',
      message: /TOLLGATE_TEST_UNSET_TOKEN is not set/,
    },
    {
      name: 'budgets with usage reading off',
      yaml: budgets('') + 'usage:\n  enabled: false\n',
      path: 'budgets.enabled',
      message: /set usage.enabled: true/,
    },
  ];

  for (const { name, yaml, path, message } of rejected) {
    it(`rejects ${name}, naming the key`, () => {
      const problems = problemsOf(yaml);
      const problem = problems.find((p) => p.path === path);
      assert.ok(problem, `a problem at ${path} in ${JSON.stringify(problems)}`);
      assert.match(problem.message, message);
      assert.ok(problem.line !== undefined, 'the problem has a line');
    });
  }

  it('resolves the embedded store path from the config file folder', () => {
    const result = parseConfigText(
      budgets('  store: {backend: embedded, path: db/b.db}\n'),
      '/etc/t/c.yaml',
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.budgets.store, { backend: 'embedded', path: '/etc/t/db/b.db' });
  });

  it('never prints a webhook header value', () => {
    const yaml = budgets(
      '  alerts:\n    webhook:\n      url: http://hooks.invalid/a\n' +
        '      headers: {authorization: {value: "Bearer s3cr3t-value"}}\n',
    );
    const result = parseConfigText(yaml, 'x');
    assert.ok(result.ok);
    const printed = JSON.stringify(Object.fromEntries(result.config.budgets.webhook!.headers));
    assert.ok(!printed.includes('s3cr3t'), printed);
    assert.equal(String(result.config.budgets.webhook!.headers.get('authorization')), '[redacted]');
  });
});
