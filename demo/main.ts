/**
 * `npm run demo`: plays a short scenario through tollgate as Envoy would and
 * tells it in plain text. Exits 0 when every step behaved as expected, 1 with
 * the reason otherwise, so it doubles as an end-to-end check.
 */
import { runDemo } from './scenario.js';

const result = await runDemo({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = result.ok ? 0 : 1;
