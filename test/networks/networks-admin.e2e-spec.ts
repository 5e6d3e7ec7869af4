import { NetworksController } from '../../src/networks/networks.controller.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { randomAddress } from '../monitor/monitor-helpers.js';

describe(`${NetworksController.name}: admin changes`, () => {
  let app: TestApp;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let user: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    app = await startTestApp({ ADMIN_EMAILS: 'someone@example.com, Net-Admin@Example.com' });
    admin = await signUp(app, 'net-admin@example.com');
    user = await signUp(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without a token and 403 to a user who is not an admin, changing nothing', async () => {
    await app.http().patch('/networks/devnet').send({ required_confirmations: 9 }).expect(401);
    await app.http().post('/networks/devnet/tokens').send({}).expect(401);
    await app.http().delete(`/networks/devnet/tokens/${randomAddress()}`).expect(401);
    const forbidden = await app
      .http()
      .patch('/networks/devnet')
      .set(user.auth)
      .send({ required_confirmations: 9 })
      .expect(403);
    expect(forbidden.body.message).toMatch(/admin/);
    await app
      .http()
      .post('/networks/devnet/tokens')
      .set(user.auth)
      .send({ address: randomAddress(), symbol: 'TKN', decimals: 6 })
      .expect(403);
    await app.http().delete(`/networks/devnet/tokens/${randomAddress()}`).set(user.auth).expect(403);
    const devnet = await app.http().get('/networks/devnet').expect(200);
    expect(devnet.body.required_confirmations).toBe(3);
  });

  it('answers 400 naming the field for bad values, and for an empty change', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ required_confirmations: 0 }, /required_confirmations/],
      [{ required_confirmations: 2.5 }, /required_confirmations/],
      [{ required_confirmations: '5' }, /required_confirmations/],
      [{ finality_rule: 'probably' }, /finality_rule/],
      [{ enabled: 'yes' }, /enabled/],
      [{ chain_id: '1' }, /chain_id/],
      [{}, /at least one of/],
    ];
    for (const [body, message] of bad) {
      const response = await app.http().patch('/networks/devnet').set(admin.auth).send(body).expect(400);
      expect(JSON.stringify(response.body.message)).toMatch(message);
    }
    await app
      .http()
      .post('/networks/devnet/tokens')
      .set(admin.auth)
      .send({ address: '0x1234', symbol: 'TKN', decimals: 6 })
      .expect(400);
    await app
      .http()
      .post('/networks/devnet/tokens')
      .set(admin.auth)
      .send({ address: randomAddress(), symbol: 'TKN', decimals: 78 })
      .expect(400);
    await app.http().delete('/networks/devnet/tokens/not-an-address').set(admin.auth).expect(400);
    await app.http().patch('/networks/BAD KEY').set(admin.auth).send({ enabled: true }).expect(400);
  });

  it('lets an admin (email matched case-insensitively) change a network, 404 for an unknown one', async () => {
    const changed = await app
      .http()
      .patch('/networks/sepolia')
      .set(admin.auth)
      .send({ required_confirmations: 20, finality_rule: 'finalized', enabled: false })
      .expect(200);
    expect(changed.body).toMatchObject({
      key: 'sepolia',
      required_confirmations: 20,
      finality_rule: 'finalized',
      enabled: false,
      status: { state: 'disabled' },
    });
    const read = await app.http().get('/networks/sepolia').expect(200);
    expect(read.body).toMatchObject({
      required_confirmations: 20,
      finality_rule: 'finalized',
      enabled: false,
    });
    await app.http().patch('/networks/nowhere').set(admin.auth).send({ enabled: true }).expect(404);
  });

  it('lets an admin add and remove a token: 201, 409 for a duplicate, 204, then 404', async () => {
    const address = randomAddress();
    const created = await app
      .http()
      .post('/networks/devnet/tokens')
      .set(admin.auth)
      .send({ address, symbol: 'TKN', decimals: 6 })
      .expect(201);
    expect(created.body).toMatchObject({ network: 'devnet', symbol: 'TKN', decimals: 6 });
    expect(created.body.address.toLowerCase()).toBe(address);
    const [row] = await app.dataSource.query(
      `SELECT t.symbol FROM tokens t JOIN blockchain_networks n ON n.id = t.network_id
        WHERE n.key = 'devnet' AND t.contract_address = $1`,
      [address],
    );
    expect(row).toEqual({ symbol: 'TKN' });
    // Listed with its network, for anyone (GET /networks is public), and only there.
    const tokensOf = async (path: string, key: string) => {
      const { body } = await app.http().get(path).expect(200);
      const networks = (Array.isArray(body) ? body : [body]) as { key: string; tokens: unknown[] }[];
      return networks.find((n) => n.key === key)!.tokens;
    };
    expect(await tokensOf('/networks/devnet', 'devnet')).toContainEqual(created.body);
    expect(await tokensOf('/networks', 'devnet')).toContainEqual(created.body);
    expect(await tokensOf('/networks', 'sepolia')).not.toContainEqual(
      expect.objectContaining({ address: created.body.address }),
    );
    await app
      .http()
      .post('/networks/devnet/tokens')
      .set(admin.auth)
      .send({ address, symbol: 'TKN', decimals: 6 })
      .expect(409);
    // By symbol ignoring case, whatever the database's collation.
    const others = [randomAddress(), randomAddress()];
    for (const [i, symbol] of ['abc', 'Zed'].entries())
      await app
        .http()
        .post('/networks/devnet/tokens')
        .set(admin.auth)
        .send({ address: others[i], symbol, decimals: 18 })
        .expect(201);
    const symbols = ((await tokensOf('/networks/devnet', 'devnet')) as { symbol: string }[]).map(
      (t) => t.symbol,
    );
    expect(symbols).toEqual(expect.arrayContaining(['abc', 'TKN', 'Zed']));
    expect(symbols).toEqual([...symbols].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    for (const other of others)
      await app.http().delete(`/networks/devnet/tokens/${other}`).set(admin.auth).expect(204);
    await app.http().delete(`/networks/devnet/tokens/${address}`).set(admin.auth).expect(204);
    expect(await tokensOf('/networks/devnet', 'devnet')).not.toContainEqual(created.body);
    await app.http().delete(`/networks/devnet/tokens/${address}`).set(admin.auth).expect(404);
    await app
      .http()
      .post('/networks/nowhere/tokens')
      .set(admin.auth)
      .send({ address, symbol: 'TKN', decimals: 6 })
      .expect(404);
  });

  it('shows every network with a status; no monitor has reported in an api-only process', async () => {
    const list = await app.http().get('/networks').expect(200);
    const byKey = Object.fromEntries(list.body.map((n: { key: string }) => [n.key, n]));
    expect(byKey.mainnet.status).toEqual({
      state: 'disabled',
      head_block: null,
      cursor_block: null,
      lag_blocks: null,
      last_block_at: null,
      error: null,
    });
    expect(byKey.devnet.status).toMatchObject({
      state: 'stalled',
      error: expect.stringMatching(/no monitor/),
    });
  });
});
