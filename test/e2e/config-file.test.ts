import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { TempDir } from '../helpers/temp-dir.js';
import { EPHEMERAL, TollgateProcess, type StartOptions } from '../helpers/tollgate-process.js';

describe('which config file the process runs', () => {
  let temp: TempDir;
  let elsewhere: string;
  const small = (name: string) => temp.write(name, 'logging:\n  level: info\n');

  before(() => {
    temp = TempDir.create('tollgate-config-file-');
    elsewhere = temp.path('elsewhere');
    mkdirSync(elsewhere);
  });
  after(() => temp.remove());

  /** Starts tollgate from an unrelated working directory; resolves with /status's config file. */
  async function configRun(args: string[], options: StartOptions): Promise<string> {
    const tollgate = await TollgateProcess.start([...args, ...EPHEMERAL], {
      cwd: elsewhere,
      ...options,
    });
    try {
      return (await tollgate.status()).config.file;
    } finally {
      tollgate.kill('SIGTERM');
      assert.equal((await tollgate.exited).code, 0);
    }
  }

  it('runs the bundled config/tollgate.yaml, found from the code, by default', async () => {
    const installed = temp.installedTollgate();

    // Neither --config nor TOLLGATE_CONFIG, and a working directory with no config in it.
    const file = await configRun([], {
      main: path.join(installed, 'dist/src/main.js'),
      env: { TOLLGATE_CONFIG: undefined },
    });

    assert.equal(file, path.join(installed, 'config/tollgate.yaml'));
    assert.ok(file.endsWith(path.join('config', 'tollgate.yaml')));
    // The bundled config keeps its budget store beside it, in data/ next to config/.
    assert.ok(existsSync(path.join(installed, 'data/tollgate-budgets.db')));
    assert.ok(!existsSync(path.join(elsewhere, 'data')), 'nothing written to the working dir');
  });

  it('runs the file TOLLGATE_CONFIG names when --config is absent', async () => {
    const fromEnv = small('from-env.yaml');

    const file = await configRun([], { env: { TOLLGATE_CONFIG: fromEnv } });

    assert.equal(file, fromEnv);
  });

  it('prefers --config to TOLLGATE_CONFIG', async () => {
    const fromEnv = small('env-loses.yaml');
    const fromFlag = small('flag-wins.yaml');

    const file = await configRun(['--config', fromFlag], { env: { TOLLGATE_CONFIG: fromEnv } });

    assert.equal(file, fromFlag);
  });
});
