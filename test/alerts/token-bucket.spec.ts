import { backoffDelay } from '../../src/alerts/feed/backoff.js';
import { RateLimitedSender, TokenBucket } from '../../src/alerts/feed/token-bucket.js';

describe(TokenBucket.name, () => {
  it('allows at most capacity + rate in any one-second window, whatever the demand', () => {
    let now = 0;
    const bucket = new TokenBucket(1, 4, () => now);
    const taken: number[] = [];
    for (now = 0; now <= 10_000; now += 7) if (bucket.tryTake()) taken.push(now);
    for (const start of taken) {
      expect(taken.filter((t) => t >= start && t <= start + 1000).length).toBeLessThanOrEqual(5);
    }
    // and it does not starve: about 4 a second over the long run
    expect(taken.length).toBeGreaterThanOrEqual(40);
  });

  it('tells how long until the next token', () => {
    let now = 0;
    const bucket = new TokenBucket(1, 4, () => now);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.msUntilToken()).toBe(250);
    now = 100;
    expect(bucket.msUntilToken()).toBe(150);
    now = 250;
    expect(bucket.tryTake()).toBe(true);
  });
});

describe(RateLimitedSender.name, () => {
  it('sends in order, spaced by the bucket, and drops the oldest when its queue is full', async () => {
    const sender = new RateLimitedSender(new TokenBucket(1, 4), 3);
    const sent: Array<{ i: number; at: number }> = [];
    for (let i = 0; i < 5; i++) sender.send(() => sent.push({ i, at: Date.now() }));
    expect(sent.map((s) => s.i)).toEqual([0]);
    expect(sender.dropped).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(sent.map((s) => s.i)).toEqual([0, 2, 3, 4]);
    for (let k = 1; k < sent.length; k++) expect(sent[k].at - sent[k - 1].at).toBeGreaterThanOrEqual(240);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt up to the cap, with jitter in [d/2, d]', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 5000, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3].map((n) => backoffDelay(n, 1000, 5000, () => 0))).toEqual([500, 1000, 2000]);
    expect(backoffDelay(100, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
