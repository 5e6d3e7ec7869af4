import type { BlockHead } from '../../src/chain/chain-client.js';
import { HeadStream } from '../../src/chain/head-stream.js';
import { JsonRpcChainClient } from '../../src/chain/json-rpc-chain-client.js';
import { type Anvil, startAnvil } from '../helpers/anvil.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A logger that keeps its warnings, and those of them about failed head polls. */
function warningLog() {
  const warnings: string[] = [];
  return {
    logger: { ...quiet, warn: (message: string) => warnings.push(message) },
    pollFailures: () => warnings.filter((w) => w.startsWith('polling the head failed')),
  };
}

describe('head stream resilience', () => {
  let anvil: Anvil;
  let proxy: TcpProxy;
  const clients: JsonRpcChainClient[] = [];
  const connect = (url: string, stallTimeoutMs = 30_000) => {
    const client = new JsonRpcChainClient({
      name: 'resilience',
      chainId: 31337n,
      url,
      pollIntervalMs: 100,
      stallTimeoutMs,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
    clients.push(client);
    const heads: BlockHead[] = [];
    let reconnects = 0;
    const unsubscribe = client.subscribeHeads({
      onHead: (h) => heads.push(h),
      onReconnect: () => (reconnects += 1),
    });
    return { client, heads, reconnects: () => reconnects, unsubscribe };
  };
  const sawHead = (heads: BlockHead[], number: bigint) => heads.some((h) => h.number === number);

  beforeAll(async () => {
    anvil = await startAnvil();
  });
  beforeEach(async () => {
    proxy = await startTcpProxy({ port: anvil.port });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await proxy.close();
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('polls over HTTP while the socket is cut, then resumes the subscription and fires onReconnect', async () => {
    const stream = connect(proxy.wsUrl);
    await until('the first connect', () => stream.reconnects() === 1);
    const first = await anvil.mine();
    await until('a pushed head', () => sawHead(stream.heads, first));

    proxy.cut({ only: 'websocket' });
    for (let i = 0; i < 3; i += 1) {
      const number = await anvil.mine();
      await until(`polled head ${number}`, () => sawHead(stream.heads, number));
    }
    expect(proxy.connections('websocket')).toBe(0);
    expect(stream.reconnects()).toBe(1);

    proxy.restore();
    await until('the reconnect', () => stream.reconnects() === 2);
    expect(proxy.connections('websocket')).toBe(1);
    // With HTTP now cut, only the resumed subscription can deliver the next head.
    proxy.cut({ only: 'http' });
    const number = await anvil.mine();
    await until(`pushed head ${number}`, () => sawHead(stream.heads, number));
  });

  it('gets nothing while the node is unreachable, and backfill is signalled when it is back', async () => {
    const stream = connect(proxy.wsUrl);
    await until('the first connect', () => stream.reconnects() === 1);
    proxy.cut();
    const missed = await anvil.mine(3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // several poll intervals, all refused
    expect(sawHead(stream.heads, missed)).toBe(false);
    proxy.restore();
    await until('the reconnect', () => stream.reconnects() === 2);
    // The polled head right after the restore, or the next pushed one, arrives.
    const next = await anvil.mine();
    await until(`head ${next}`, () => sawHead(stream.heads, next));
  });

  it('recovers from a flapping connection, cut at any point of the connect', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown): number => rejections.push(reason);
    process.on('unhandledRejection', record);
    try {
      const stream = connect(proxy.wsUrl);
      await until('the first connect', () => stream.reconnects() === 1);
      for (let i = 0; i < 10; i += 1) {
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, 7 * i));
        proxy.restore();
        await new Promise((resolve) => setTimeout(resolve, 11 * i));
      }
      let recovered = false;
      for (let attempt = 0; attempt < 10 && !recovered; attempt += 1) {
        const number = await anvil.mine();
        await until(`head ${number}`, () => stream.heads.some((h) => h.number >= number), 1_500).then(
          () => (recovered = true),
          () => undefined,
        );
      }
      expect(recovered).toBe(true);
      // Heads can come back through polling before the socket does (backoff up to 400 ms): the
      // resubscription is awaited, not assumed to have happened by now.
      await until('the resubscription after the flapping', () => stream.reconnects() > 1);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('reconnects when the node stops producing heads (stall watchdog)', async () => {
    const stream = connect(anvil.wsUrl, 600);
    await until('the first connect', () => stream.reconnects() === 1);
    // No block is mined: the socket stays open, but nothing arrives.
    await until('a watchdog reconnect', () => stream.reconnects() >= 2, 5_000);
    const number = await anvil.mine();
    await until(`head ${number} after the stall`, () => sawHead(stream.heads, number));
  });

  it('delivers a head once when the read after subscribing already returned it and the push repeats it', async () => {
    // The race seen in CI: a block mined while the catch-up read is in flight comes back from that
    // read first and then from the subscription.
    const client = new JsonRpcChainClient({
      name: 'heads',
      chainId: 31337n,
      url: anvil.wsUrl,
      pollIntervalMs: 100,
      stallTimeoutMs: 30_000,
    });
    clients.push(client);
    await anvil.mine();
    const head = await client.latestHead();
    let push: ((h: BlockHead) => void) | undefined;
    let answered!: () => void;
    const readDone = new Promise<void>((resolve) => (answered = resolve));
    const stream = new HeadStream(
      {
        openPush: async (handlers) => {
          push = (h) => handlers.onHead(h);
          return { close: () => undefined };
        },
        pollHead: async () => {
          answered();
          return head;
        },
      },
      { pollIntervalMs: 1_000, stallTimeoutMs: 30_000, logger: quiet },
    );
    const heads: BlockHead[] = [];
    stream.subscribe({ onHead: (h) => heads.push(h) });
    await readDone;
    await until('the read head', () => heads.length === 1);
    push!(head);
    push!({ ...head });
    await stream.close();
    expect(heads).toEqual([head]);
  });

  it('does not go back to an older head when the read after subscribing answers after a newer push, unless a read again says so', async () => {
    // The read is sent, the next block is mined and pushed, then the read's answer (the block
    // before) arrives: listeners must keep the newer head as the latest.
    const client = new JsonRpcChainClient({
      name: 'heads',
      chainId: 31337n,
      url: anvil.wsUrl,
      pollIntervalMs: 100,
      stallTimeoutMs: 30_000,
    });
    clients.push(client);
    await anvil.mine();
    const older = await client.latestHead();
    await anvil.mine();
    const newer = await client.latestHead();
    let push: ((h: BlockHead) => void) | undefined;
    let answer!: (h: BlockHead) => void;
    let asked!: () => void;
    let polls = 0;
    const readSent = new Promise<void>((resolve) => (asked = resolve));
    const stream = new HeadStream(
      {
        openPush: async (handlers) => {
          push = (h) => handlers.onHead(h);
          return { close: () => undefined };
        },
        pollHead: () => {
          polls++;
          asked();
          return new Promise<BlockHead>((resolve) => (answer = resolve));
        },
      },
      { pollIntervalMs: 1_000, stallTimeoutMs: 30_000, logger: quiet },
    );
    const heads: BlockHead[] = [];
    stream.subscribe({ onHead: (h) => heads.push(h) });
    await readSent;
    push!(newer);
    answer(older);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heads).toEqual([newer]);
    // It asked again: when that answer is the older head too, with no push meanwhile, the node
    // rolled back after the push, and listeners hear of it.
    expect(polls).toBe(2);
    answer(older);
    await until('the rollback', () => heads.length === 2);
    await stream.close();
    expect(heads).toEqual([newer, older]);
  });

  it('stops everything on close: no head, no reconnect afterwards', async () => {
    const stream = connect(proxy.wsUrl, 300);
    await until('the first connect', () => stream.reconnects() === 1);
    proxy.cut({ only: 'websocket' }); // now polling and reconnecting
    await new Promise((resolve) => setTimeout(resolve, 150));
    await stream.client.close();
    const heads = stream.heads.length;
    const reconnects = stream.reconnects();
    proxy.restore();
    await anvil.mine();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(stream.heads.length).toBe(heads);
    expect(stream.reconnects()).toBe(reconnects);
    expect(() => stream.client.subscribeHeads({ onHead: () => undefined })).toThrow(/closed/);
  });
});

describe(HeadStream.name, () => {
  it('backs off exponentially with jitter up to the cap while the push stream fails', async () => {
    const attempts: number[] = [];
    const stream = new HeadStream(
      {
        openPush: async () => {
          attempts.push(Date.now());
          throw new Error('refused');
        },
        pollHead: async () => {
          throw new Error('refused');
        },
      },
      {
        pollIntervalMs: 1_000,
        stallTimeoutMs: 1_000,
        initialBackoffMs: 40,
        maxBackoffMs: 160,
        logger: quiet,
        random: () => 0.999,
      },
    );
    stream.subscribe({ onHead: () => undefined });
    await until('six attempts', () => attempts.length >= 6, 5_000);
    await stream.close();
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    // Jitter factor ~1 here: 40, 80, 160, 160, 160 (timers may run late, never early).
    expect(gaps[0]).toBeGreaterThanOrEqual(38);
    expect(gaps[1]).toBeGreaterThanOrEqual(78);
    expect(gaps[2]).toBeGreaterThanOrEqual(158);
    expect(gaps[4]).toBeLessThan(160 + 150);
    const count = attempts.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts.length).toBe(count); // nothing after close
  });

  it('logs a failing poll once, then at a slowing rate, while the node stays away', async () => {
    const { logger, pollFailures } = warningLog();
    let down = true;
    let polls = 0;
    const head: BlockHead = {
      number: 7n,
      hash: `0x${'07'.repeat(32)}`,
      parentHash: `0x${'06'.repeat(32)}`,
      timestamp: 1n,
    };
    const stream = new HeadStream(
      {
        openPush: async () => {
          throw new Error('refused');
        },
        pollHead: async () => {
          polls++;
          if (down) throw new Error('refused');
          return head;
        },
      },
      {
        pollIntervalMs: 10,
        stallTimeoutMs: 1_000,
        initialBackoffMs: 60_000,
        maxBackoffMs: 60_000,
        logger,
      },
    );
    const heads: BlockHead[] = [];
    stream.subscribe({ onHead: (h) => heads.push(h) });
    await until('20 failed polls', () => polls >= 20, 5_000);
    expect(pollFailures()).toEqual(['polling the head failed: refused']);
    // Back, then away again: a new outage is logged at once.
    down = false;
    await until('a polled head', () => heads.length === 1, 5_000);
    down = true;
    const before = polls;
    await until('20 more failed polls', () => polls >= before + 20, 5_000);
    await stream.close();
    expect(pollFailures()).toHaveLength(2);
  });

  it('logs failing polls at once again after the socket came back, even with no poll succeeding', async () => {
    const { logger, pollFailures } = warningLog();
    let refuse = true;
    let takeDown: ((reason: Error) => void) | undefined;
    let polls = 0;
    const stream = new HeadStream(
      {
        openPush: async (handlers) => {
          if (refuse) throw new Error('refused');
          takeDown = handlers.onDown;
          return { close: () => undefined };
        },
        pollHead: async () => {
          polls++;
          throw new Error('no http');
        },
      },
      {
        pollIntervalMs: 10,
        stallTimeoutMs: 30_000,
        initialBackoffMs: 100,
        maxBackoffMs: 100,
        logger,
      },
    );
    stream.subscribe({ onHead: () => undefined });
    await until('failed polls', () => polls >= 5, 5_000);
    refuse = false;
    await until('the socket back', () => takeDown !== undefined, 5_000);
    expect(pollFailures()).toHaveLength(1);
    takeDown!(new Error('socket closed'));
    const before = polls;
    await until('polls again', () => polls >= before + 5, 5_000);
    await stream.close();
    expect(pollFailures()).toHaveLength(2);
  });

  it('with jitter 0 waits half the base delay', async () => {
    const attempts: number[] = [];
    const stream = new HeadStream(
      {
        openPush: async () => {
          attempts.push(Date.now());
          throw new Error('refused');
        },
        pollHead: () => new Promise<never>(() => undefined),
      },
      {
        pollIntervalMs: 1_000,
        stallTimeoutMs: 1_000,
        initialBackoffMs: 400,
        maxBackoffMs: 400,
        logger: quiet,
        random: () => 0,
      },
    );
    stream.subscribe({ onHead: () => undefined });
    await until('two attempts', () => attempts.length >= 2, 5_000);
    const gap = attempts[1] - attempts[0];
    expect(gap).toBeGreaterThanOrEqual(198);
    expect(gap).toBeLessThan(390);
    stream.subscribe({ onHead: () => undefined })();
    await stream.close();
  });
});
