/**
 * Amounts and prices stay exact decimal strings from the API to the screen: they are grouped by
 * thousands as text, never parsed into a JS number (which would round 0.1 + 0.2 and anything past
 * 2^53 base units).
 */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

export function formatAmount(amount: string): string {
  const match = DECIMAL.exec(amount);
  if (!match) return amount;
  const [, sign, whole, fraction] = match;
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${fraction ? `.${fraction}` : ''}`;
}

/** A price as the exchange sent it ("43210.12000000"): trailing zeros past 2 decimals dropped, grouped. */
export function formatPrice(price: string): string {
  const match = DECIMAL.exec(price);
  if (!match) return price;
  const [, sign, whole, fraction = ''] = match;
  const trimmed = fraction.replace(/0+$/, '').padEnd(2, '0');
  return formatAmount(`${sign}${whole}.${trimmed}`);
}

/** "+1.25 %" / "-0.40 %" from a signed decimal percent string. */
export function formatPercent(percent: string): string {
  const signed = percent.startsWith('-') || /^[0.]+$/.test(percent) ? percent : `+${percent}`;
  return `${signed} %`;
}

/** 0x1234…abcd for a long hex string (the whole value stays in a title / copy button). */
export const shortHex = (hex: string, keep = 6): string =>
  hex.length <= keep * 2 + 2 ? hex : `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`;

export const formatTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';
