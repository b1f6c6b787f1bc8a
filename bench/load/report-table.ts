import type { BenchReport, ResultRow } from './load-bench.js';

const HEADINGS = [
  'mode',
  'conc',
  'server',
  'req/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'CPU µs/req',
  'req/s ×floor',
  'CPU ×floor',
  'p50 Δ ms',
  'errors',
];

/** Columns aligned to the right (numbers). */
const NUMERIC = new Set([HEADINGS[1]!, ...HEADINGS.slice(3)]);

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

function cells(row: ResultRow): string[] {
  const m = row.median;
  const vs = row.versusFloor;
  return [
    row.mode,
    String(row.concurrency),
    row.title,
    fixed(m.requestsPerSecond, 0),
    fixed(m.p50, 2),
    fixed(m.p90, 2),
    fixed(m.p99, 2),
    fixed(m.max, 1),
    fixed(m.serverCpuPerRequestUs, 0),
    vs ? fixed(vs.throughput, 2) : '',
    vs ? fixed(vs.cpu, 2) : '',
    vs ? `${vs.p50DeltaMs >= 0 ? '+' : ''}${fixed(vs.p50DeltaMs, 2)}` : '',
    String(row.errors),
  ];
}

/** The rows as a Markdown table with padded columns (readable raw and rendered). */
export function formatTable(rows: readonly ResultRow[]): string {
  const body = rows.map(cells);
  const widths = HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...body.map((line) => line[column]!.length)),
  );
  const line = (values: readonly string[]) =>
    `| ${values
      .map((value, column) =>
        NUMERIC.has(HEADINGS[column]!)
          ? value.padStart(widths[column]!)
          : value.padEnd(widths[column]!),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, column) =>
      NUMERIC.has(HEADINGS[column]!) ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
    )
    .join(' | ')} |`;

  return [line(HEADINGS), rule, ...body.map(line)].join('\n');
}

/** The whole report for a terminal: machine, table, skipped configurations, warnings. */
export function formatReport(report: BenchReport): string {
  const { machine, plan } = report;
  const lines = [
    `${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}; ` +
      `median of ${plan.runs} run(s) of ${plan.runSeconds} s per row, ` +
      `servers interleaved; ${report.wallSeconds.toFixed(0)} s in all`,
    '',
    formatTable(report.rows),
  ];

  for (const skip of report.skipped) lines.push(`skipped ${skip.server}: ${skip.reason}`);
  for (const [server, sources] of Object.entries(report.settlements)) {
    const unexpected = Object.entries(sources).filter(([source]) => source !== 'reported');
    if (unexpected.length > 0) {
      lines.push(`warning: ${server} settled usage from ${JSON.stringify(sources)}`);
    }
  }
  for (const row of report.rows) {
    const samples = row.runs.flatMap((run) => run.errorSamples);
    if (samples.length > 0) {
      lines.push(`errors in ${row.title} ${row.mode} c${row.concurrency}: ${samples[0]}`);
    }
  }
  return lines.join('\n');
}
