import type { Hex } from '../../src/common/evm.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { type RpcRecorder, startRpcRecorder } from '../helpers/rpc-recorder.js';
import { depositsOf, randomAddress, synced } from './monitor-helpers.js';

describe(`${ChainFollower.name}: wallet backfills`, () => {
  let anvil: Anvil;
  let database: TestDatabase;
  let recorder: RpcRecorder;
  let app: TestApp | undefined;

  beforeAll(async () => {
    anvil = await startAnvil();
    database = await createTestDatabase();
    recorder = await startRpcRecorder(anvil.httpUrl);
  });

  afterAll(async () => {
    await app?.close();
    await recorder?.close();
    await database?.drop();
    await anvil?.stop();
  });

  it('scans a range once for all the wallets waiting on it, whoever added them', async () => {
    // History, followed by a monitor that watches none of these addresses.
    app = await startTestApp(
      { APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl },
      database,
    );
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const addresses: Hex[] = [randomAddress(), randomAddress(), randomAddress()];
    const start = (await anvil.blockNumber()) + 1n;
    const sent: Hex[] = [];
    for (let i = 0; i < 12; i++) {
      sent.push(await sendEth(anvil, { to: addresses[i % 3], valueWei: 100n + BigInt(i) }));
      await anvil.mine();
    }
    await synced(app.dataSource, anvil);
    const end = await anvil.blockNumber();
    await app.close();

    // Three users add a wallet each with the same start_block while no monitor runs.
    app = await startTestApp({ APP_ROLE: 'api', DEVNET_ENABLED: 'false' }, database);
    for (const address of addresses) {
      const { auth } = await signUp(app);
      await app
        .http()
        .post('/wallets')
        .set(auth)
        .send({ address, start_block: start.toString() })
        .expect(201);
    }
    await app.close();

    // The monitor (through the recording proxy) schedules the three backfills at once.
    app = await startTestApp(
      {
        APP_ROLE: 'all',
        DEVNET_ENABLED: 'false',
        DEVNET_RPC_URL: recorder.httpUrl,
        MONITOR_POLL_INTERVAL_MS: '100',
      },
      database,
    );
    const rows = await waitFor(async () => {
      const found = (await Promise.all(addresses.map((a) => depositsOf(app!.dataSource, a)))).flat();
      return found.length === 12 ? found : undefined;
    });
    expect(rows.map((d) => d.tx_hash).sort()).toEqual([...sent].sort());

    // Each block of the range was read from the node once (header + traces), not once per wallet.
    const reads = new Map<bigint, number>();
    for (const call of recorder.calls) {
      if (call.method !== 'trace_block') continue;
      const number = BigInt(call.params[0] as string);
      if (number >= start && number <= end) reads.set(number, (reads.get(number) ?? 0) + 1);
    }
    const range = Array.from({ length: Number(end - start + 1n) }, (_, i) => start + BigInt(i));
    expect(range.map((n) => [n, reads.get(n)])).toEqual(range.map((n) => [n, 1]));
  });
});
