import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';

import { sampleValue } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';

/** The entry point compiled beside this test, whichever output folder that is. */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

const config = (threshold: number) => `server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
circuit_breakers:
  defaults:
    failure_threshold: ${threshold}
`;

type LogLine = Record<string, unknown> & { msg: string; level: string };

describe('hot reload in the tollgate process', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('reloads on SIGHUP and on a file change, and keeps serving after a bad file', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'tollgate-proc-')), 'tollgate.yaml');
    await writeFile(file, config(5));
    child = spawn(process.execPath, [MAIN, '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: LogLine[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
    const find = (msg: string) => lines.find((line) => line.msg.includes(msg));

    await waitFor(() => find('tollgate is serving') !== undefined, 10_000);
    const adminPort = Number(find('tollgate is serving')?.adminPort);
    const admin = async (urlPath: string) =>
      (await fetch(`http://127.0.0.1:${adminPort}${urlPath}`)).text();
    const reloads = async (result: string) =>
      sampleValue(await admin('/metrics'), 'tollgate_config_reloads_total', { result });

    child.kill('SIGHUP');
    await waitFor(async () => (await reloads('unchanged')) === 1, 5000);

    await writeFile(file, config(7));
    await waitFor(() => find('config reloaded') !== undefined, 5000);
    const status = JSON.parse(await admin('/status'));
    assert.equal(status.breakers.length, 0);
    assert.equal(status.reload.version, find('config reloaded')?.version);

    await writeFile(file, `${config(9)}  failure_treshold: 9\n`);
    await waitFor(() => find('was not reloaded') !== undefined, 5000);
    const failed = JSON.parse(await admin('/status'));
    assert.equal(failed.reload.version, status.reload.version, 'the last good config serves');
    assert.match(failed.reload.lastError.problems[0].message, /unknown key/);
    assert.match(find('was not reloaded')?.msg ?? '', /line 7: circuit_breakers\.failure_treshold/);
    assert.equal(await reloads('failure'), 1);
    assert.equal(child.exitCode, null);
  });
});
