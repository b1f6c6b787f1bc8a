// Reads the JSON of `npm audit --omit=dev --audit-level=high --json` on stdin
// and decides: exit 1 when runtime dependencies have high or critical
// advisories, exit 0 when they have none, and exit 0 with one line saying so
// when the advisory service could not be asked (npm exits 1 in both failure
// cases; only its JSON tells them apart). Try it by hand with a saved report:
//   node .ci/audit-verdict.mjs < report.json
import { readFileSync } from 'node:fs';
import process from 'node:process';

const text = readFileSync(0, 'utf8');
const say = (line) => process.stdout.write(`npm audit: ${line}\n`);

let report;
try {
  report = JSON.parse(text);
} catch {
  report = undefined;
}

const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  // No report: npm could not reach the advisory service (an HTTP error such
  // as 405 from a registry that does not serve audits, or a network error).
  // Its message names the registry; only the status or code is printed.
  const code = /\b(E[A-Z0-9_]{3,})\b/.exec(String(report?.message ?? ''))?.[1];
  const why = report?.statusCode ? `HTTP ${report.statusCode}` : (code ?? 'no report');
  say(`skipped: the advisory service could not be asked (${why}); nothing was checked`);
  process.exit(0);
}

const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, entry]) =>
  ['high', 'critical'].includes(entry.severity),
);
if (serious.length === 0) {
  say(`no high or critical advisories in runtime dependencies (${counts.total ?? 0} lower)`);
  process.exit(0);
}

for (const [name, entry] of serious) {
  const titles = (entry.via ?? []).flatMap((via) => (typeof via === 'object' ? [via.title] : []));
  say(`${entry.severity}: ${name} ${entry.range ?? ''} ${titles.join('; ')}`.trim());
}
say(`${serious.length} runtime dependencies with high or critical advisories; failing`);
process.exit(1);
