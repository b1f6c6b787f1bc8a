import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { DemoCheckFailed } from '../../demo/narrator.js';
import { runDemo, type DemoStep } from '../../demo/scenario.js';

const DEMO_MAIN = fileURLToPath(new URL('../../demo/main.js', import.meta.url));

/** Runs `node dist/demo/main.js` as `npm run demo` does, after the build. */
async function runDemoProcess(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [DEMO_MAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('npm run demo', () => {
  it('plays every step, states each step’s facts and exits 0', async () => {
    const { code, stdout, stderr } = await runDemoProcess();

    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal(stderr, '');
    const facts = [
      // 1: usage and cost, JSON and streamed
      new RegExp(
        String.raw`client +x-tollgate-tokens-input: \d+, x-tollgate-tokens-output: 40,\s+` +
          String.raw`x-tollgate-cost: 0\.\d+`,
      ),
      /tollgate added "stream_options":\{"include_usage":true\}/,
      /mode_override STREAMED/,
      /usage +\d+ input \+ 24 output = \d+ tokens, 0\.\d+ USD \(reported\)/,
      // 2: ext_authz
      /metadata +envoy.filters.http.ext_authz: tenant=acme decision=allow budget_remaining=\d+/,
      // 3: the trial budget runs out
      /request 4 +429, answered by tollgate/,
      /tollgate +429 at request_body, retry-after: \d+, x-ratelimit-limit: 200/,
      /details +tollgate_budget_exhausted/,
      /denied_response 429/,
      // 4: the breaker
      /breaker OPEN: tollgate answers for the backend/,
      /tollgate +503 at request_headers, retry-after: [12]\b/,
      /breaker HALF_OPEN/,
      /closed->open 1, open->half_open 1,\s+half_open->closed 1/,
      // 5: EDS
      /EDS +pushed \d\.\d s later: 127\.0\.0\.1:\d+ UNHEALTHY@100,\s+127\.0\.0\.1:\d+ HEALTHY@100/,
      /\/health +UNHEALTHY, model_status: model gpt-4o-mini: status is loading/,
      /tollgate exited 0/,
    ];
    for (const fact of facts) assert.match(stdout, fact);
    const steps = stdout.match(/^\d\. /gm) ?? [];
    assert.deepEqual(steps, ['1. ', '2. ', '3. ', '4. ', '5. ']);
    assert.ok(!stdout.includes('\u001b['), 'no terminal escape codes');
  });

  it('fails with the step, the reason and tollgate’s log when a fact does not hold', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const wrong: DemoStep = async (_stack, say) => {
      say.begin(9, 'A step that fails');
      throw new DemoCheckFailed('expected: something that did not happen');
    };

    const result = await runDemo({ out: (line) => out.push(line), err: (line) => err.push(line) }, [
      wrong,
    ]);

    assert.deepEqual(result, {
      ok: false,
      reason: 'step 9. A step that fails: expected: something that did not happen',
    });
    assert.match(
      err.join('\n'),
      /^demo FAILED: step 9\. A step that fails: expected: something that did not happen$/m,
    );
    assert.match(err.join('\n'), /tollgate is serving/);
  });
});
