import { heldPermits } from '../../test/helpers/breaker-permits.js';
import { sampleValue } from '../../test/helpers/metrics.js';
import type { TestTollgate } from '../../test/helpers/tollgate-harness.js';
import type { SoakReport } from './soak-report.js';

/**
 * The leak checks every soak phase ends with: no stream open or failed, no
 * breaker permit or trial slot held, no budget reservation open, every
 * admitted request settled exactly once.
 */
export async function checkNothingHeld(
  gate: TestTollgate,
  tenants: readonly string[],
  report: SoakReport,
): Promise<void> {
  const metrics = (await gate.admin('/metrics')).text;
  const sample = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(metrics, name, labels) ?? 0;
  const decision = (name: string) => sample('tollgate_decisions_total', { decision: name });
  const settled = ['reported', 'partial', 'estimated', 'none'].reduce(
    (sum, source) => sum + sample('tollgate_usage_settlements_total', { source }),
    0,
  );
  const refused = decision('budget_exhausted') + decision('budget_unavailable');

  report.expect(sample('tollgate_extproc_active_streams') === 0, 'streams still open');
  for (const end of ['failed', 'protocol_error']) {
    const count = sample('tollgate_extproc_streams_total', { end });
    report.note(`streams ended ${end}`, count);
  }
  report.expect(
    settled === decision('forward') - refused,
    `${settled} settlements for ${decision('forward') - refused} admitted requests`,
  );
  report.expect((await heldPermits(gate)) === 0, 'breaker permits held');
  for (const breaker of gate.tollgate.breakers.list()) {
    const trials = breaker.snapshot().trialsInFlight;
    report.expect(trials === 0, `${breaker.name}: ${trials} trial slots held`);
  }
  for (const tenant of tenants) {
    const { reserved } = JSON.parse((await gate.admin(`/budgets/${tenant}`)).text) as {
      reserved: number;
    };
    report.expect(reserved === 0, `${tenant}: ${reserved} tokens still reserved`);
  }
  const errors = gate.logs.lines.filter((line) => line.level === 'error');
  report.expect(errors.length === 0, `${errors.length} error log lines: ${errors[0]?.msg}`);
}
