import assert from 'node:assert/strict';
import { mkdtemp, open, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { Registry } from 'prom-client';

import { ConfigWatcher } from '../../src/config/config-watcher.js';
import { ReloadController, type ReloadOutcome } from '../../src/config/reload-controller.js';
import type { TollgateConfig } from '../../src/config/tollgate-config.js';
import { LogSink } from '../helpers/log-sink.js';
import { testConfig } from '../helpers/tollgate-harness.js';

const validYaml = (threshold: number) =>
  `logging:\n  level: info\ncircuit_breakers:\n  defaults:\n    failure_threshold: ${threshold}\n`;

const DEBOUNCE_MS = 100;
const WAIT_MS = 3000;

/** Collects watched reload outcomes and lets a test wait for the next one of a kind. */
class Outcomes {
  readonly all: ReloadOutcome[] = [];
  private waiters: Array<{ result: string; resolve: (o: ReloadOutcome) => void }> = [];

  record = (outcome: ReloadOutcome): void => {
    this.all.push(outcome);
    const waiter = this.waiters.find((w) => w.result === outcome.result);
    if (!waiter) return;
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.resolve(outcome);
  };

  next(result: ReloadOutcome['result']): Promise<ReloadOutcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${result} reload`)), WAIT_MS);
      this.waiters.push({
        result,
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      });
    });
  }
}

describe('ConfigWatcher with a ReloadController', () => {
  let dir: string;
  let file: string;
  let applied: TollgateConfig[];
  let logs: LogSink;
  let controller: ReloadController;
  let outcomes: Outcomes;
  let watcher: ConfigWatcher;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tollgate-watch-'));
    file = path.join(dir, 'tollgate.yaml');
    await writeFile(file, validYaml(5));
    applied = [];
    logs = new LogSink();
    controller = new ReloadController({
      file,
      initial: testConfig(validYaml(5)),
      apply: (config) => void applied.push(config),
      logger: logs.logger,
      metrics: new Registry(),
    });
    outcomes = new Outcomes();
    watcher = new ConfigWatcher({
      file,
      reload: (request) => controller.reload(request),
      logger: logs.logger,
      debounceMs: DEBOUNCE_MS,
      onOutcome: outcomes.record,
    });
    watcher.start();
  });
  afterEach(() => watcher.stop());

  const thresholds = () => applied.map((config) => config.breakers.defaults.failureThreshold);

  it('reloads a file saved by writing a new file and renaming it over the old one', async () => {
    const success = outcomes.next('success');
    const temporary = path.join(dir, '.tollgate.yaml.swp');
    await writeFile(temporary, validYaml(9));
    await rename(temporary, file);

    await success;

    assert.deepEqual(thresholds(), [9]);
  });

  it('keeps watching after a rename replaced the file', async () => {
    for (const threshold of [6, 7]) {
      const success = outcomes.next('success');
      const temporary = path.join(dir, `next-${threshold}.tmp`);
      await writeFile(temporary, validYaml(threshold));
      await rename(temporary, file);
      await success;
    }

    assert.deepEqual(thresholds(), [6, 7]);
  });

  it('never applies a file caught half-written by truncate-then-write', async () => {
    const text = validYaml(8);
    const handle = await open(file, 'r+');
    const deferred = outcomes.next('deferred');
    await handle.truncate(0);
    await handle.write(text.slice(0, text.indexOf('failure_threshold') + 9), 0);

    // The first read after the change sees half a file; the writer then finishes.
    await deferred;
    const success = outcomes.next('success');
    await handle.write(text, 0);
    await handle.close();
    await success;

    assert.deepEqual(thresholds(), [8]);
    assert.equal(controller.status().reloads.failure, 0);
    assert.equal(logs.lines.filter((line) => line.level === 'error').length, 0);
  });

  it('rejects a bad file while running, logs it once and keeps the old config', async () => {
    const failure = outcomes.next('failure');
    await writeFile(file, `${validYaml(3)}  unknown_key: 1\n`);

    await failure;

    assert.deepEqual(thresholds(), []);
    const errors = logs.lines.filter((line) => line.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.msg ?? '', /line 6: circuit_breakers\.unknown_key: unknown key/);
    assert.equal(controller.status().version, testConfig(validYaml(5)).source.version);

    const success = outcomes.next('success');
    await writeFile(file, validYaml(4));
    await success;
    assert.deepEqual(thresholds(), [4]);
  });

  it('does not re-apply a file rewritten with the same content', async () => {
    const unchanged = outcomes.next('unchanged');

    await writeFile(file, validYaml(5));

    await unchanged;
    assert.deepEqual(thresholds(), []);
  });

  it('ignores other files in the directory', async () => {
    await writeFile(path.join(dir, 'notes.txt'), 'hello');
    const success = outcomes.next('success');
    await writeFile(file, validYaml(2));
    await success;

    assert.deepEqual(
      outcomes.all.map((outcome) => outcome.result),
      ['success'],
    );
  });

  it('reloads on demand (SIGHUP) without any file event', async () => {
    watcher.stop();
    await writeFile(file, validYaml(11));

    const outcome = await controller.reload({ trigger: 'signal' });

    assert.equal(outcome.result, 'success');
    assert.deepEqual(thresholds(), [11]);
    assert.equal(logs.find('config reloaded')[0]?.trigger, 'signal');
  });
});
