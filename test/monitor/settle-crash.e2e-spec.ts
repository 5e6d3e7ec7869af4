import type { Hex } from '../../src/common/evm.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { MonitorRepository } from '../../src/monitor/monitor.repository.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { cursorOf, depositsOf, eventsOf, randomAddress, synced } from './monitor-helpers.js';

const ETH = 10n ** 18n;

/**
 * A block is committed in two transactions: (1) cursor, window, the block's deposits and their
 * `deposit.detected`; (2) confirmations and completion of pending deposits, brought to the cursor.
 * Here the process "dies" between the two: transaction 1 is committed through the repository
 * alone, then a follower starts and must repair confirmations, announcing each change once.
 */
describe('MonitorRepository: crash between a block and its confirmations', () => {
  let anvil: Anvil;
  let database: TestDatabase;
  let app: TestApp | undefined;
  const follower = () =>
    startTestApp({ APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl }, database);

  beforeAll(async () => {
    anvil = await startAnvil();
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await anvil?.stop();
  });

  it('a follower starting after transaction 1 only settles confirmations once per change', async () => {
    app = await follower();
    const { auth } = await signUp(app);
    await anvil.mine(2);
    await synced(app.dataSource, anvil);
    const wallet: Hex = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    const first = await sendEth(anvil, { to: wallet, valueWei: ETH });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const second = await sendEth(anvil, { to: wallet, valueWei: 2n * ETH });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.confirmations])).toEqual([
      [first, 2],
      [second, 1],
    ]);
    await app.close();

    // Transaction 1 of the next block, and nothing else (an api-only app: no follower runs).
    app = await startTestApp({ APP_ROLE: 'api', DEVNET_RPC_URL: anvil.wsUrl }, database);
    const repository = new MonitorRepository(app.dataSource, new EventLogRepository(app.dataSource));
    const network = (await repository.enabledNetworks()).find((n) => n.key === 'devnet')!;
    const state = await repository.loadState(network.id);
    const tip = state.window[state.window.length - 1];
    const head = await anvil.mine();
    const block = await anvil.rpc<{ number: Hex; hash: Hex; parentHash: Hex }>('eth_getBlockByNumber', [
      `0x${head.toString(16)}`,
      false,
    ]);
    expect(block.parentHash).toBe(tip.hash);
    const result = await repository.commitBlocks({
      network,
      expectedTip: tip,
      blocks: [{ number: head, hash: block.hash, parentHash: block.parentHash }],
      deposits: [],
      windowSize: 128,
      walletSeq: { seen: state.walletSeq, current: state.walletSeq },
    });
    expect(result.events).toEqual([]);
    expect((await cursorOf(app.dataSource))?.hash).toBe(block.hash);
    // The crash: confirmations are still those of the previous cursor.
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.confirmations, d.status])).toEqual([
      [2, 'pending'],
      [1, 'pending'],
    ]);
    await app.close();

    // Restart: the follower settles at start, before any new head.
    app = await follower();
    const restarted = app;
    await waitFor(async () =>
      (await depositsOf(restarted.dataSource, wallet)).every((d) => d.confirmations >= 2) ? true : undefined,
    );
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.confirmations, d.status])).toEqual([
      [3, 'completed'],
      [2, 'pending'],
    ]);

    // Settling again (the next block) changes and announces only what the new head changes.
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.confirmations, d.status])).toEqual([
      [3, 'completed'],
      [3, 'completed'],
    ]);
    const events = (await eventsOf(app.dataSource, wallet)).map((e) => [
      e.type,
      e.data.tx_hash,
      e.data.confirmations,
      e.data.status,
    ]);
    expect(events).toEqual([
      ['deposit.detected', first, 1, 'pending'],
      // The second block: its own transaction, then the settling one.
      ['deposit.detected', second, 1, 'pending'],
      ['deposit.confirmation', first, 2, 'pending'],
      // The block committed before the "crash" announced nothing; the restarted follower did:
      ['deposit.completed', first, 3, 'completed'],
      ['deposit.confirmation', second, 2, 'pending'],
      ['deposit.completed', second, 3, 'completed'],
    ]);
  });

  it('a settle that fails is retried, the follower reads as not ready meanwhile, and ready once it succeeds', async () => {
    await app?.close();
    app = await startTestApp(
      { APP_ROLE: 'all', DEVNET_RPC_URL: anvil.wsUrl, MONITOR_STALL_TIMEOUT_MS: '1000' },
      database,
    );
    const running = app;
    const ready = async () => (await running.http().get('/health/ready')).status;
    const { auth } = await signUp(app);
    await synced(app.dataSource, anvil);
    const wallet: Hex = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    await sendEth(anvil, { to: wallet, valueWei: ETH });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    await waitFor(async () => ((await ready()) === 200 ? true : undefined), 10_000, 'readiness');

    // Every confirmation update fails (a real error from the database) until the trigger goes.
    await app.dataSource.query(`
      CREATE FUNCTION fail_confirmations() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'confirmations are read-only for this test'; END $$;
      CREATE TRIGGER fail_confirmations BEFORE UPDATE ON deposits FOR EACH ROW
        WHEN (NEW.confirmations <> OLD.confirmations) EXECUTE FUNCTION fail_confirmations();`);
    try {
      // The block commits (no confirmation changes in it); its settle fails, and every retry.
      const head = await anvil.mine();
      await waitFor(async () => ((await cursorOf(running.dataSource))?.number === head ? true : undefined));
      await waitFor(async () => ((await ready()) === 503 ? true : undefined), 10_000, 'readiness to fail');
      expect((await depositsOf(app.dataSource, wallet)).map((d) => d.confirmations)).toEqual([1]);
    } finally {
      await app.dataSource.query(
        `DROP TRIGGER fail_confirmations ON deposits; DROP FUNCTION fail_confirmations()`,
      );
    }
    // A retry settles it, with no block after it: the follower is ready again.
    await waitFor(
      async () => ((await depositsOf(running.dataSource, wallet))[0].confirmations === 2 ? true : undefined),
      15_000,
      'the retried settle',
    );
    await waitFor(async () => ((await ready()) === 200 ? true : undefined), 10_000, 'readiness to come back');
  });
});
