import type { EmailMessage } from './mailer.js';

/** One firing as listed in an alert email. */
export interface FiringLine {
  symbol: string;
  condition: string;
  threshold: string;
  window_seconds: number | null;
  price: string;
  price_time: Date;
}

const describe = (f: FiringLine): string => {
  switch (f.condition) {
    case 'above':
      return `${f.symbol} is at or above ${f.threshold}`;
    case 'below':
      return `${f.symbol} is at or below ${f.threshold}`;
    case 'crosses_up':
      return `${f.symbol} crossed up through ${f.threshold}`;
    case 'crosses_down':
      return `${f.symbol} crossed down through ${f.threshold}`;
    default:
      return `${f.symbol} moved ${f.threshold.startsWith('-') ? '' : '+'}${f.threshold}% or more within ${f.window_seconds} s`;
  }
};

/** One email for one delivery: every firing it covers, listed (a burst is one message). */
export function composeAlertEmail(
  deliveryId: string,
  to: string,
  firings: readonly FiringLine[],
): EmailMessage {
  const subject =
    firings.length === 1
      ? `Price alert: ${describe(firings[0])}`
      : `${firings.length} price alerts triggered (${[...new Set(firings.map((f) => f.symbol))].join(', ')})`;
  const lines = firings.map(
    (f) => `- ${describe(f)}: price ${f.price} at ${f.price_time.toISOString()} (exchange time)`,
  );
  return {
    to,
    subject,
    text: [`Your price alerts:`, '', ...lines, '', 'Crypto Deposit Monitor'].join('\n'),
    messageId: `<alert-delivery-${deliveryId}@crypto-deposit-monitor>`,
  };
}
