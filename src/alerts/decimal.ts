/**
 * Exact decimals for prices, thresholds and percent changes: a decimal string is held as a bigint
 * scaled by 10^18 (`Scaled`), so comparisons are exact; a JS number never carries money.
 */

export const SCALE_DIGITS = 18;
export const SCALE = 10n ** BigInt(SCALE_DIGITS);

/** Up to 20 integer digits and 18 fractional digits: what `numeric(38,18)` holds. */
const UNSIGNED = /^(0|[1-9]\d{0,19})(\.\d{1,18})?$/;
const SIGNED = /^-?(0|[1-9]\d{0,19})(\.\d{1,18})?$/;
/** What the exchange sends: digits with an optional fraction (leading zeros allowed, e.g. "00.1"). */
const EXCHANGE_PRICE = /^\d{1,20}(\.\d{1,18})?$/;

export const isUnsignedDecimal = (value: unknown): value is string =>
  typeof value === 'string' && UNSIGNED.test(value);
export const isSignedDecimal = (value: unknown): value is string =>
  typeof value === 'string' && SIGNED.test(value);

/** A decimal string (already validated by one of the patterns above) to its scaled bigint. */
export function toScaled(text: string): bigint {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [whole, fraction = ''] = body.split('.');
  const value = BigInt(whole) * SCALE + BigInt(fraction.padEnd(SCALE_DIGITS, '0'));
  return negative ? -value : value;
}

/** An exchange price string to its scaled bigint, or undefined when it is not a plain decimal. */
export function parseExchangePrice(text: unknown): bigint | undefined {
  if (typeof text !== 'string' || !EXCHANGE_PRICE.test(text)) return undefined;
  return toScaled(text);
}

/** Scaled bigint to the shortest exact decimal string ("50000", "0.5", "-2.25"). */
export function fromScaled(value: bigint): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / SCALE;
  const fraction = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Canonical text of a decimal string (as Postgres `numeric` would normalise it, minus trailing zeros). */
export const normalizeDecimal = (text: string): string => fromScaled(toScaled(text));

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};
const ceilDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n === b < 0n ? q + 1n : q;
};

/**
 * The percent change from `from` to `to` (both scaled, `from` > 0), scaled by 10^18 and rounded
 * down (`floor`) or up (`ceil`). For a threshold T with at most 18 decimals (an integer once
 * scaled), `change ≥ T ⇔ floor ≥ T` and `change ≤ T ⇔ ceil ≤ T`: comparisons stay exact.
 */
export function percentChange(from: bigint, to: bigint): { floor: bigint; ceil: bigint } {
  const numerator = (to - from) * 100n * SCALE;
  return { floor: floorDiv(numerator, from), ceil: ceilDiv(numerator, from) };
}
