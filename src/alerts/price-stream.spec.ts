import { change24hPercent, PerSymbolThrottle } from './price-stream.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(PerSymbolThrottle.name, () => {
  it('sends a quiet symbol at once, then at most one per interval: the newest of what came meanwhile', async () => {
    const sent: string[] = [];
    const throttle = new PerSymbolThrottle<{ symbol: string; price: string }>(200, (t) =>
      sent.push(`${t.symbol}=${t.price}`),
    );
    throttle.push({ symbol: 'BTCUSDT', price: '1' });
    throttle.push({ symbol: 'BTCUSDT', price: '2' });
    throttle.push({ symbol: 'BTCUSDT', price: '3' });
    throttle.push({ symbol: 'ETHUSDT', price: '10' });
    expect(sent).toEqual(['BTCUSDT=1', 'ETHUSDT=10']);
    await sleep(300);
    expect(sent).toEqual(['BTCUSDT=1', 'ETHUSDT=10', 'BTCUSDT=3']);
    // The interval after that send has passed with nothing held: the next tick goes at once.
    await sleep(250);
    throttle.push({ symbol: 'BTCUSDT', price: '4' });
    expect(sent.at(-1)).toBe('BTCUSDT=4');
    throttle.stop();
  });

  it('drops what is held when stopped', async () => {
    const sent: string[] = [];
    const throttle = new PerSymbolThrottle<{ symbol: string }>(100, (t) => sent.push(t.symbol));
    throttle.push({ symbol: 'A' });
    throttle.push({ symbol: 'A' });
    throttle.stop();
    await sleep(150);
    expect(sent).toEqual(['A']);
  });
});

describe('change24hPercent', () => {
  it('is the exact change from the 24 h open, truncated to 2 decimals towards zero', () => {
    expect(change24hPercent('100.00000000', '101.23900000')).toBe('1.23');
    expect(change24hPercent('100', '98.765')).toBe('-1.23');
    expect(change24hPercent('3', '4')).toBe('33.33');
    expect(change24hPercent('100', '100')).toBe('0');
    expect(change24hPercent('100', '99.999')).toBe('0');
  });

  it('is null without a usable open', () => {
    expect(change24hPercent(undefined, '1')).toBeNull();
    expect(change24hPercent('0', '1')).toBeNull();
    expect(change24hPercent('abc', '1')).toBeNull();
  });
});
