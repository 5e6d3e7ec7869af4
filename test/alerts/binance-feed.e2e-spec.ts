import { BinancePriceFeed, type BinanceFeedOptions } from '../../src/alerts/feed/binance-price-feed.js';
import type { PriceTick } from '../../src/alerts/feed/price-feed.js';
import { BinanceStreamServer, waitFor } from '../helpers/binance-stream-server.js';

describe(BinancePriceFeed.name, () => {
  let exchange: BinanceStreamServer;
  let feed: BinancePriceFeed | undefined;

  const startFeed = (options: Partial<BinanceFeedOptions> = {}) => {
    const ticks: PriceTick[] = [];
    feed = new BinancePriceFeed({
      baseUrl: exchange.url,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      initialBackoffMs: 100,
      maxBackoffMs: 2000,
      ...options,
    });
    feed.onPrice((tick) => ticks.push(tick));
    feed.start();
    return { feed, ticks };
  };

  beforeEach(async () => {
    exchange = await BinanceStreamServer.start();
  });
  afterEach(async () => {
    await feed?.stop();
    feed = undefined;
    await exchange.close();
  });

  it('subscribes with a combined-stream URL of lower-case streams and keeps prices exact with their exchange time', async () => {
    const { ticks } = startFeed();
    await exchange.waitForConnections(1);
    expect(exchange.connections[0].streams).toEqual(['btcusdt@miniTicker', 'ethusdt@miniTicker']);
    exchange.sendPrice('BTCUSDT', '43210.12345678', 1_700_000_000_123);
    exchange.sendPrice('ETHUSDT', '0.000000000000000001', 1_700_000_000_456);
    exchange.sendRaw('not json');
    exchange.sendRaw(
      JSON.stringify({
        stream: 'btcusdt@miniTicker',
        data: { e: '24hrMiniTicker', s: 'BTCUSDT', c: 1.5, E: 1 },
      }),
    );
    await waitFor(() => ticks.length >= 2, 5000, 'two prices');
    expect(ticks.map((t) => [t.symbol, t.priceText, t.timeMs])).toEqual([
      ['BTCUSDT', '43210.12345678', 1_700_000_000_123],
      ['ETHUSDT', '0.000000000000000001', 1_700_000_000_456],
    ]);
    expect(ticks[0].price).toBe(43210_123456780000000000n);
    expect(ticks[1].price).toBe(1n);
  });

  it('answers a protocol ping with a pong carrying the same payload', async () => {
    startFeed();
    await exchange.waitForConnections(1);
    await expect(exchange.ping('ping-payload-1700000000000')).resolves.toBe('ping-payload-1700000000000');
  });

  it('reconnects with exponential backoff while connections keep dropping, then resets once prices flow', async () => {
    exchange.dropOnConnect = true;
    const { feed, ticks } = startFeed({ random: () => 1 });
    await waitFor(() => exchange.attempts.length >= 5, 10_000, 'five connection attempts');
    exchange.dropOnConnect = false;
    // With jitter pinned to its top: 100, 200, 400, 800 ms between attempts.
    expect(feed.reconnectDelays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    const gaps = exchange.attempts.slice(1, 5).map((at, i) => at - exchange.attempts[i]);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual([100, 200, 400, 800][i] - 5));

    await waitFor(() => exchange.open.length === 1, 10_000, 'a connection that stays');
    exchange.sendPrice('BTCUSDT', '100', Date.now());
    await waitFor(() => ticks.length === 1, 5000, 'a price');
    exchange.dropAll();
    await waitFor(
      () => exchange.open.length === 1 && feed.reconnectDelays.length >= 6,
      10_000,
      'a reconnect',
    );
    // A connection that delivered prices was good: the next drop starts the backoff over.
    expect(feed.reconnectDelays.at(-1)).toBe(100);
  });

  it('keeps jitter within [d/2, d]', async () => {
    const { feed } = startFeed({ random: () => 0 });
    exchange.dropOnConnect = true;
    await exchange.waitForConnections(1).catch(() => undefined);
    await waitFor(() => feed.reconnectDelays.length >= 3, 10_000, 'three reconnects');
    expect(feed.reconnectDelays.slice(0, 3)).toEqual([50, 100, 200]);
  });

  it('treats serverShutdown as reconnect-now', async () => {
    const { feed, ticks } = startFeed();
    await exchange.waitForConnections(1);
    exchange.serverShutdown();
    await exchange.waitForConnections(2);
    expect(feed.reconnectDelays).toHaveLength(1);
    expect(feed.reconnectDelays[0]).toBeLessThanOrEqual(250);
    exchange.sendPrice('ETHUSDT', '2500.5');
    await waitFor(() => ticks.length === 1, 5000, 'a price on the new connection');
  });

  it('reconnects proactively before the session limit (the exchange cuts at 24 h)', async () => {
    const { feed } = startFeed({ maxSessionMs: 300 });
    await exchange.waitForConnections(3);
    expect(feed.reconnectDelays.every((d) => d <= 250)).toBe(true);
    expect(exchange.open).toHaveLength(1);
  });

  it('reconnects when the connection goes silent (no frames, not even pings)', async () => {
    startFeed({ stallTimeoutMs: 300 });
    await exchange.waitForConnections(2);
  });

  it('never sends more than 5 frames in any one-second window (20 pings at once)', async () => {
    startFeed();
    await exchange.waitForConnections(1);
    const connection = exchange.open[0];
    for (let i = 0; i < 20; i++) connection.socket.ping(`p${i}`);
    await waitFor(
      () => connection.inbound.filter((f) => f.kind === 'pong').length === 20,
      15_000,
      '20 pongs',
    );
    const pongs = connection.inbound.filter((f) => f.kind === 'pong');
    expect(pongs.map((p) => p.data)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    for (const first of pongs) {
      expect(pongs.filter((p) => p.at >= first.at && p.at < first.at + 1000).length).toBeLessThanOrEqual(5);
    }
  }, 30_000);

  it('refuses an outbound budget above the exchange limit', () => {
    expect(
      () =>
        new BinancePriceFeed({
          baseUrl: exchange.url,
          symbols: ['BTCUSDT'],
          outbound: { capacity: 5, refillPerSecond: 5 },
        }),
    ).toThrow(/at most 5/);
  });
});
