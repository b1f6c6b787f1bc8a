/**
 * Exact money. Prices are kept as whole micro-units (1e-6 of the currency)
 * per million tokens, and amounts as whole nano-units (1e-9 of the currency),
 * so no float error creeps into a bill. Multiplying a token count by a price
 * in micro-units per million gives pico-units (1e-12), which is why the
 * products are taken in BigInt and rounded once.
 */

/** How many decimal places a price may have: each one is a whole micro-unit per million. */
export const MAX_PRICE_DECIMALS = 6;

/** The highest price per million tokens that config accepts. */
export const MAX_PRICE = 1_000_000;

/**
 * The largest amount in nano-units that a `number` holds exactly: about
 * 9,007,199 currency units. One request never comes near it; totals past it
 * are treated as corrupt usage data by the cost calculator.
 */
export const MAX_SAFE_NANOS = Number.MAX_SAFE_INTEGER;

const NANOS_PER_UNIT = 1_000_000_000;

const PICOS_PER_NANO = 1000n;

/**
 * How many decimal places `value` has in its shortest decimal form, the one
 * `String(value)` prints (`0.15` → 2, `1e-7` → 7, `2500` → 0).
 */
export function decimalPlaces(value: number): number {
  const { fraction, exponent } = splitDecimal(value);

  return Math.max(0, fraction.length - exponent);
}

/**
 * Converts a price per million tokens, as written in config, to whole
 * micro-units per million tokens, exactly: `0.15` → 150000, `2.5` → 2500000,
 * `0.000001` → 1. It reads the number's shortest decimal form rather than
 * multiplying, so `0.1` does not become 100000.00000000001.
 *
 * @returns `undefined` when the price is negative, not finite, above
 *   {@link MAX_PRICE} or has more than {@link MAX_PRICE_DECIMALS} decimals.
 */
export function priceToMicros(price: number): number | undefined {
  if (!Number.isFinite(price) || price < 0 || price > MAX_PRICE) return undefined;
  if (decimalPlaces(price) > MAX_PRICE_DECIMALS) return undefined;

  const { whole, fraction, exponent } = splitDecimal(price);
  const shift = MAX_PRICE_DECIMALS - fraction.length + exponent;
  return Number(BigInt(whole + fraction) * 10n ** BigInt(shift));
}

/**
 * Rounds pico-units (1e-12) to nano-units, half up: 500 picos become 1 nano,
 * 499 become 0. Expects a non-negative amount.
 */
export function picosToNanos(picos: bigint): bigint {
  return (picos + PICOS_PER_NANO / 2n) / PICOS_PER_NANO;
}

/**
 * Formats whole nano-units as an exact decimal amount of the currency, with
 * no trailing zeros: 3085 → `0.000003085`, 1e9 → `1`, 0 → `0`.
 *
 * @throws RangeError when `nanos` is not a safe integer (a bug in the caller).
 */
export function formatNanos(nanos: number): string {
  if (!Number.isSafeInteger(nanos)) {
    throw new RangeError(`expected whole nano-units, got ${nanos}`);
  }

  const sign = nanos < 0 ? '-' : '';
  const magnitude = Math.abs(nanos);
  const units = Math.floor(magnitude / NANOS_PER_UNIT);
  const fraction = String(magnitude % NANOS_PER_UNIT)
    .padStart(9, '0')
    .replace(/0+$/, '');

  return fraction === '' ? `${sign}${units}` : `${sign}${units}.${fraction}`;
}

/**
 * Converts nano-units to a float amount of the currency, for Prometheus
 * counters and gauges. The float may be off in its last bits; bills and logs
 * use {@link formatNanos}.
 */
export function nanosToCurrency(nanos: number): number {
  return nanos / NANOS_PER_UNIT;
}

/** `1.5e-7` → whole `1`, fraction `5`, exponent -7; `0.15` → `0`, `15`, 0. */
function splitDecimal(value: number): { whole: string; fraction: string; exponent: number } {
  const [mantissa = '', exponent = '0'] = String(Math.abs(value)).split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');

  return { whole, fraction, exponent: Number(exponent) };
}
