import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, it } from 'node:test';

import { Registry } from 'prom-client';

import { ReloadController } from '../../src/config/reload-controller.js';
import type { TollgateConfig } from '../../src/config/tollgate-config.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { LogSink } from '../helpers/log-sink.js';
import { sampleValue } from '../helpers/metrics.js';
import { testConfig } from '../helpers/tollgate-harness.js';

/** A valid file whose only distinguishing setting is the default failure threshold. */
const validYaml = (threshold: number) =>
  `circuit_breakers:\n  defaults:\n    failure_threshold: ${threshold}\n`;

const BAD_YAML = `circuit_breakers:
  defaults:
    failure_threshold: zero
  enabeld: true
server:
  grpc_adress: 127.0.0.1:1
`;

describe('ReloadController', () => {
  let file: string;
  let applied: TollgateConfig[];
  let logs: LogSink;
  let metrics: Registry;
  let clock: FakeClock;
  let controller: ReloadController;

  beforeEach(async () => {
    file = path.join(await mkdtemp(path.join(tmpdir(), 'tollgate-reload-')), 'tollgate.yaml');
    await writeFile(file, validYaml(5));
    applied = [];
    logs = new LogSink();
    metrics = new Registry();
    clock = new FakeClock();
    controller = new ReloadController({
      file,
      initial: testConfig(validYaml(5)),
      apply: (config) => void applied.push(config),
      logger: logs.logger,
      metrics,
      clock,
    });
  });

  async function reloads(result: string): Promise<number | undefined> {
    return sampleValue(await metrics.metrics(), 'tollgate_config_reloads_total', { result });
  }

  it('applies a changed valid file and reports its version', async () => {
    await writeFile(file, validYaml(9));
    clock.advance(60_000);

    const outcome = await controller.reload({ trigger: 'signal' });

    assert.equal(outcome.result, 'success');
    assert.equal(applied.length, 1);
    assert.equal(applied[0]?.breakers.defaults.failureThreshold, 9);
    const status = controller.status();
    assert.equal(status.version, applied[0]?.source.version);
    assert.equal(status.appliedAt, new Date(clock.wallMs()).toISOString());
    assert.equal(status.lastError, null);
    assert.equal(await reloads('success'), 1);
    assert.equal(logs.find('config reloaded')[0]?.trigger, 'signal');
  });

  it('does not apply a file identical to the running config', async () => {
    const before = controller.status();

    const outcome = await controller.reload();

    assert.equal(outcome.result, 'unchanged');
    assert.equal(applied.length, 0);
    assert.deepEqual(controller.status(), {
      ...before,
      reloads: { ...before.reloads, unchanged: 1 },
    });
    assert.equal(await reloads('unchanged'), 1);
  });

  it('keeps the old config on a bad file, logging one line with every problem', async () => {
    const version = controller.status().version;
    await writeFile(file, BAD_YAML);

    const outcome = await controller.reload({ trigger: 'watch' });

    assert.equal(outcome.result, 'failure');
    assert.equal(applied.length, 0);
    const errors = logs.lines.filter((line) => line.level === 'error');
    assert.equal(errors.length, 1);
    const message = errors[0]?.msg ?? '';
    assert.match(message, /3 problems/);
    assert.match(message, /line 3: circuit_breakers\.defaults\.failure_threshold: /);
    assert.match(message, /line 4: circuit_breakers\.enabeld: unknown key/);
    assert.match(message, /line 6: server\.grpc_adress: unknown key/);
    assert.match(message, new RegExp(`version ${version}\\) keeps serving`));
    assert.equal((errors[0]?.problems as unknown[]).length, 3);

    const status = controller.status();
    assert.equal(status.version, version);
    assert.equal(status.lastError?.trigger, 'watch');
    assert.equal(status.lastError?.problems.length, 3);
    assert.equal(await reloads('failure'), 1);
  });

  it('keeps the last error on /status after a later success', async () => {
    await writeFile(file, BAD_YAML);
    await controller.reload();
    await writeFile(file, validYaml(7));

    await controller.reload();

    assert.equal(controller.status().lastError?.problems.length, 3);
    assert.deepEqual(controller.status().reloads, { success: 1, failure: 1, unchanged: 0 });
  });

  it('counts a bad file reverted to the running content as unchanged', async () => {
    await writeFile(file, BAD_YAML);
    await controller.reload();
    await writeFile(file, validYaml(5));

    assert.equal((await controller.reload()).result, 'unchanged');
    assert.equal(applied.length, 0);
  });

  it('refuses an empty (truncated) file instead of resetting every setting', async () => {
    await writeFile(file, '');

    const outcome = await controller.reload();

    assert.equal(outcome.result, 'failure');
    assert.equal(applied.length, 0);
    assert.match(logs.find('was not reloaded')[0]?.msg ?? '', /the file is empty/);
  });

  it('reports a missing file as a failure', async () => {
    await writeFile(file, validYaml(6));
    const missing = new ReloadController({
      file: `${file}.gone`,
      initial: testConfig(validYaml(5)),
      apply: () => assert.fail('nothing to apply'),
      logger: logs.logger,
      metrics,
    });

    const outcome = await missing.reload();

    assert.equal(outcome.result, 'failure');
    assert.match(logs.find('was not reloaded')[0]?.msg ?? '', /cannot read the file/);
  });

  it('counts a config that apply throws on as a failure and keeps the old version', async () => {
    const version = controller.status().version;
    const throwing = new ReloadController({
      file,
      initial: testConfig(validYaml(5)),
      apply: () => {
        throw new RangeError('breaker "x" failureThreshold must be at least 1');
      },
      logger: logs.logger,
      metrics,
    });
    await writeFile(file, validYaml(8));

    const outcome = await throwing.reload();

    assert.equal(outcome.result, 'failure');
    assert.equal(throwing.status().version, version);
    assert.match(logs.find('was not reloaded')[0]?.msg ?? '', /could not be applied: breaker/);
  });

  it('reports nothing for a deferred failure', async () => {
    await writeFile(file, BAD_YAML);

    const outcome = await controller.reload({ deferFailure: true });

    assert.equal(outcome.result, 'deferred');
    assert.equal(logs.lines.length, 0);
    assert.equal(controller.status().lastError, null);
    assert.equal(await reloads('failure'), 0);
  });

  it('runs reloads one at a time, in order', async () => {
    const order: string[] = [];
    const slow = new ReloadController({
      file,
      initial: testConfig(validYaml(5)),
      apply: async (config) => {
        order.push(`start ${config.breakers.defaults.failureThreshold}`);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`end ${config.breakers.defaults.failureThreshold}`);
      },
      logger: logs.logger,
      metrics,
    });
    await writeFile(file, validYaml(8));

    const first = slow.reload();
    const second = slow.reload();

    assert.equal((await first).result, 'success');
    assert.equal((await second).result, 'unchanged');
    assert.deepEqual(order, ['start 8', 'end 8']);
  });

  it('registers its metric once per registry, however many controllers share it', async () => {
    const second = new ReloadController({
      file,
      initial: testConfig(validYaml(5)),
      apply: () => undefined,
      logger: logs.logger,
      metrics,
    });

    await controller.reload();
    await second.reload();

    assert.equal(await reloads('unchanged'), 2);
    assert.equal(await reloads('success'), 0);
  });
});
