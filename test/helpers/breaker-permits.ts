import type { BreakerSnapshot } from '../../src/breaker/circuit-breaker.js';

/** Something with an admin port to ask. */
interface Inspectable {
  admin(path: string): Promise<{ status: number; text: string }>;
}

/**
 * Breaker permits given out and not yet settled, summed over every breaker on
 * `/status`: admitted requests that have neither an outcome nor been given back.
 */
export async function heldPermits(target: Inspectable): Promise<number> {
  const { text } = await target.admin('/status');
  const { breakers } = JSON.parse(text) as { breakers: BreakerSnapshot[] };

  return breakers.reduce((held, { totals }) => {
    const settled = totals.successes + totals.failures + totals.released;
    return held + totals.admitted - settled;
  }, 0);
}
