import type { Hex } from '../../src/common/evm.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, type TestApp } from '../helpers/app.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cursorOf, depositsOf, eventsOf, randomAddress, startMonitorApp, synced } from './monitor-helpers.js';

describe(`${ChainFollower.name} after a lost node connection`, () => {
  let anvil: Anvil;
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    anvil = await startAnvil();
    proxy = await startTcpProxy({ port: anvil.port });
    app = await startMonitorApp({
      DEVNET_RPC_URL: proxy.wsUrl,
      MONITOR_POLL_INTERVAL_MS: '200',
      MONITOR_STALL_TIMEOUT_MS: '2000',
    });
    await anvil.mine();
    await synced(app.dataSource, anvil);
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await anvil?.stop();
  });

  it('backfills, in order and once, the blocks mined while the node was unreachable', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    const sent: Hex[] = [await sendEth(anvil, { to: wallet, valueWei: 1n })];
    await anvil.mine();
    await synced(app.dataSource, anvil);

    proxy.cut();
    const before = (await cursorOf(app.dataSource))!.number;
    for (let i = 0; i < 4; i++) {
      sent.push(await sendEth(anvil, { from: i, to: wallet, valueWei: 2n + BigInt(i) }));
      await anvil.mine(2);
    }
    expect((await cursorOf(app.dataSource))!.number).toBe(before);

    proxy.restore();
    await synced(app.dataSource, anvil, 30_000);
    const rows = await depositsOf(app.dataSource, wallet);
    expect(rows.map((d) => d.tx_hash)).toEqual(sent);
    const detected = (await eventsOf(app.dataSource, wallet)).filter((e) => e.type === 'deposit.detected');
    expect(detected.map((e) => e.data.tx_hash)).toEqual(sent);
  });
});
