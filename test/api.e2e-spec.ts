import { randomUUID } from 'node:crypto';

import type { DataSource } from 'typeorm';

import { DepositsRepository } from '../src/deposits/deposits.repository.js';
import { signUp, startTestApp, type TestApp } from './helpers/app.js';

type Account = Awaited<ReturnType<typeof signUp>>;

const CHECKSUMMED = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const TX = '0x' + 'ab'.repeat(32);

describe('REST API', () => {
  let app: TestApp;
  let alice: Account;
  let bob: Account;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await signUp(app);
    bob = await signUp(app);
  });

  afterAll(async () => {
    await app.close();
  });

  /** Inserts a deposit the way the monitor would have recorded it. */
  async function insertDeposit(fields: {
    address: string;
    txHash?: string;
    logIndex?: number;
    amount?: string;
    status?: string;
    network?: string;
    detectedAt?: string;
  }): Promise<string> {
    const erc20 = (fields.logIndex ?? -1) >= 0;
    const [row] = await app.dataSource.query(
      `INSERT INTO deposits (network_id, tx_hash, log_index, block_number, block_hash, from_address, wallet_address,
         asset_type, asset_symbol, asset_contract, asset_decimals, amount, confirmations, required_confirmations,
         status, detected_at)
       SELECT id, $2, $3, 12345678901, $4, $5, $6, $7, $8, $9, $10, $11, 1, required_confirmations, $12,
              coalesce($13::timestamptz, now())
         FROM blockchain_networks WHERE key = $1
       RETURNING id`,
      [
        fields.network ?? 'devnet',
        fields.txHash ?? '0x' + randomUUID().replaceAll('-', '').padEnd(64, '0'),
        fields.logIndex ?? -1,
        '0x' + 'cd'.repeat(32),
        '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
        fields.address.toLowerCase(),
        erc20 ? 'erc20' : 'native',
        erc20 ? 'USDC' : 'ETH',
        erc20 ? '0x1c7d4b196cb0c7b01d743fbc6116a902379c7238' : null,
        erc20 ? 6 : 18,
        fields.amount ?? '1500000000000000000',
        fields.status ?? 'pending',
        fields.detectedAt ?? null,
      ],
    );
    return row.id as string;
  }

  describe('users and auth', () => {
    it('creates a user and never returns the password hash', async () => {
      const res = await app
        .http()
        .post('/users')
        .send({ email: 'Carol@Example.com', password: 'long enough pw' });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['created_at', 'email', 'id']);
      expect(res.body.email).toBe('carol@example.com');
    });

    it('answers 409 for an email already registered, whatever its case', async () => {
      await app
        .http()
        .post('/users')
        .send({ email: 'dave@example.com', password: 'long enough pw' })
        .expect(201);
      const res = await app
        .http()
        .post('/users')
        .send({ email: 'DAVE@example.com', password: 'another pw!' });
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/email/);
    });

    it('answers 400 naming the field for a bad email or a short password', async () => {
      const badEmail = await app
        .http()
        .post('/users')
        .send({ email: 'not-an-email', password: 'long enough pw' });
      expect(badEmail.status).toBe(400);
      expect(JSON.stringify(badEmail.body.message)).toMatch(/email/);
      const shortPassword = await app
        .http()
        .post('/users')
        .send({ email: 'e@example.com', password: 'short' });
      expect(shortPassword.status).toBe(400);
      expect(JSON.stringify(shortPassword.body.message)).toMatch(/password/);
    });

    it('logs in with a bearer token and refuses a wrong password or unknown email with 401', async () => {
      const ok = await app
        .http()
        .post('/auth/login')
        .send({ email: alice.email, password: 'correct horse battery' });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
      const wrong = await app
        .http()
        .post('/auth/login')
        .send({ email: alice.email, password: 'wrong password' });
      expect(wrong.status).toBe(401);
      const unknown = await app
        .http()
        .post('/auth/login')
        .send({ email: 'nobody@example.com', password: 'whatever' });
      expect(unknown.status).toBe(401);
    });

    it('shows a user only themself', async () => {
      const me = await app.http().get('/users/me').set(alice.auth).expect(200);
      expect(me.body).toMatchObject({ id: alice.id, email: alice.email });
      await app.http().get(`/users/${alice.id}`).set(alice.auth).expect(200);
      await app.http().get(`/users/by-email/${alice.email}`).set(alice.auth).expect(200);
      const other = await app.http().get(`/users/${bob.id}`).set(alice.auth);
      expect(other.status).toBe(404);
      expect(JSON.stringify(other.body)).not.toContain(bob.email);
      await app.http().get(`/users/by-email/${bob.email}`).set(alice.auth).expect(404);
    });

    it('answers 400 for a malformed user id or email in the path', async () => {
      const res = await app.http().get('/users/not-a-uuid').set(alice.auth);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/id must be a UUID/);
      await app.http().get('/users/by-email/nope').set(alice.auth).expect(400);
    });

    it('requires a valid bearer token on protected routes', async () => {
      await app.http().get('/users/me').expect(401);
      await app.http().get('/users/me').set('Authorization', 'Bearer not.a.jwt').expect(401);
      await app.http().get('/users/me').set('Authorization', alice.token).expect(401);
      await app
        .http()
        .get('/wallets/' + randomUUID())
        .expect(401);
      await app
        .http()
        .get('/deposits/' + randomUUID())
        .expect(401);
    });
  });

  describe('wallets', () => {
    it('creates a wallet, returns it checksummed and stores it lower-case', async () => {
      const res = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: CHECKSUMMED.toLowerCase(), label: 'hot' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        user_id: alice.id,
        address: CHECKSUMMED,
        label: 'hot',
        start_block: null,
      });
      const [row] = await app.dataSource.query('SELECT address FROM wallets WHERE id = $1', [res.body.id]);
      expect(row.address).toBe(CHECKSUMMED.toLowerCase());
    });

    it('answers 409 for the same address twice for one user, but lets another user watch it', async () => {
      const again = await app.http().post('/wallets').set(alice.auth).send({ address: CHECKSUMMED });
      expect(again.status).toBe(409);
      await app.http().post('/wallets').set(bob.auth).send({ address: CHECKSUMMED }).expect(201);
    });

    it('refuses a mixed-case address with a bad checksum, malformed addresses and unknown fields', async () => {
      const badChecksum = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: '0x70997970c51812dc3A010C7d01b50e0d17dc79C8' });
      expect(badChecksum.status).toBe(400);
      expect(JSON.stringify(badChecksum.body.message)).toMatch(/address/);
      await app.http().post('/wallets').set(alice.auth).send({ address: '0x1234' }).expect(400);
      const unknown = await app.http().post('/wallets').set(alice.auth).send({ address: OTHER, owner: 'x' });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.body.message)).toMatch(/owner should not exist/);
      for (const start_block of [-5, 5, '-5', '1.5', '18446744073709551615']) {
        const res = await app.http().post('/wallets').set(alice.auth).send({ address: OTHER, start_block });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.message)).toMatch(/start_block/);
      }
    });

    it('accepts a start block as a decimal string', async () => {
      const res = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: OTHER, start_block: '9223372036854775807' });
      expect(res.status).toBe(201);
      expect(res.body.start_block).toBe('9223372036854775807');
    });

    it('lists, gets and deletes only the caller’s wallets', async () => {
      const list = await app.http().get(`/wallets/user/${alice.id}`).set(alice.auth).expect(200);
      expect(list.body.map((w: { address: string }) => w.address)).toEqual([CHECKSUMMED, OTHER]);
      await app.http().get(`/wallets/user/${bob.id}`).set(alice.auth).expect(404);

      const bobs = await app.http().get(`/wallets/user/${bob.id}`).set(bob.auth).expect(200);
      const bobWallet = bobs.body[0].id as string;
      await app.http().get(`/wallets/${bobWallet}`).set(alice.auth).expect(404);
      await app.http().delete(`/wallets/${bobWallet}`).set(alice.auth).expect(404);
      await app.http().get(`/wallets/${bobWallet}`).set(bob.auth).expect(200);

      const created = await app.http().post('/wallets').set(bob.auth).send({ address: OTHER }).expect(201);
      await app.http().delete(`/wallets/${created.body.id}`).set(bob.auth).expect(204);
      await app.http().get(`/wallets/${created.body.id}`).set(bob.auth).expect(404);
      await app.http().delete(`/wallets/${created.body.id}`).set(bob.auth).expect(404);
    });

    it('answers 400 for a malformed wallet id', async () => {
      await app.http().get('/wallets/123').set(alice.auth).expect(400);
      await app.http().get('/wallets/user/123').set(alice.auth).expect(400);
    });
  });

  describe('deposits', () => {
    let wallet: string;
    const address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';

    beforeAll(async () => {
      const res = await app.http().post('/wallets').set(alice.auth).send({ address }).expect(201);
      wallet = res.body.id;
    });

    it('returns a deposit with every documented field, amounts as exact strings', async () => {
      const id = await insertDeposit({ address, amount: '123456789012345678901234567890' });
      const res = await app.http().get(`/deposits/${id}`).set(alice.auth).expect(200);
      expect(res.body).toEqual({
        id,
        network: 'devnet',
        chain_id: '31337',
        tx_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        log_index: -1,
        transfer_type: 'native',
        trace_address: null,
        block_number: '12345678901',
        block_hash: '0x' + 'cd'.repeat(32),
        from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
        wallet_address: address,
        asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
        amount: '123456789012.34567890123456789',
        amount_base_units: '123456789012345678901234567890',
        confirmations: 1,
        required_confirmations: 3,
        status: 'pending',
        detected_at: expect.any(String),
        completed_at: null,
        orphaned_at: null,
      });
    });

    it('lists several deposits of one transaction by hash, in log order', async () => {
      await insertDeposit({ address, txHash: TX, logIndex: 7, amount: '2500000' });
      await insertDeposit({ address, txHash: TX, logIndex: 3, amount: '1' });
      const res = await app
        .http()
        .get(`/deposits/tx/${TX.toUpperCase().replace('0X', '0x')}`)
        .set(alice.auth);
      expect(res.status).toBe(200);
      expect(res.body.map((d: { log_index: number; amount: string }) => [d.log_index, d.amount])).toEqual([
        [3, '0.000001'],
        [7, '2.5'],
      ]);
      expect(res.body[0].asset).toEqual({
        type: 'erc20',
        symbol: 'USDC',
        contract: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
        decimals: 6,
      });
    });

    it('lists a transaction’s live and orphaned deposits on every network, each found through an index on its transaction', async () => {
      const tx = '0x' + 'ef'.repeat(32);
      await insertDeposit({ address, txHash: tx, logIndex: 1, network: 'sepolia', amount: '3' });
      await insertDeposit({ address, txHash: tx, logIndex: 1, status: 'orphaned', amount: '2' });
      await insertDeposit({ address, txHash: tx, logIndex: 1, amount: '1' });
      const res = await app.http().get(`/deposits/tx/${tx}`).set(alice.auth).expect(200);
      expect(
        res.body.map((d: { network: string; status: string; amount_base_units: string }) => [
          d.network,
          d.status,
          d.amount_base_units,
        ]),
      ).toEqual([
        ['devnet', expect.any(String), expect.any(String)],
        ['devnet', expect.any(String), expect.any(String)],
        ['sepolia', 'pending', '3'],
      ]);
      expect(
        res.body
          .slice(0, 2)
          .map((d: { status: string; amount_base_units: string }) => `${d.status} ${d.amount_base_units}`)
          .sort(),
      ).toEqual(['orphaned 2', 'pending 1']);

      // There is no index on tx_hash alone (one less to write per deposit): the lookup must probe
      // the per-network ones. With table scans priced out, every scan of deposits must be an
      // index scan with the transaction in its condition.
      let statement: { text: string; params: unknown[] } | undefined;
      const probe = {
        query: (text: string, params: unknown[]) => {
          statement = { text, params };
          return app.dataSource.query(text, params);
        },
      } as unknown as DataSource;
      await new DepositsRepository(probe).findOwnedByTx(alice.id, tx);
      type PlanNode = {
        'Node Type': string;
        'Relation Name'?: string;
        'Index Cond'?: string;
        Plans?: PlanNode[];
      };
      const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
      const runner = app.dataSource.createQueryRunner();
      await runner.startTransaction();
      try {
        // Fresh statistics (autovacuum may not have analysed these tables yet), then table scans
        // priced out: what remains must be an index probe.
        await runner.query(`ANALYZE deposits, wallets`);
        await runner.query(`SET LOCAL enable_seqscan = off`);
        const [
          {
            'QUERY PLAN': [plan],
          },
        ] = await runner.query(`EXPLAIN (FORMAT JSON) ${statement!.text}`, statement!.params);
        const scans = nodes(plan.Plan as PlanNode).filter((n) => n['Relation Name'] === 'deposits');
        expect(scans.length).toBeGreaterThan(0);
        for (const scan of scans)
          expect(
            nodes(scan)
              .map((n) => n['Index Cond'] ?? '')
              .join(' '),
          ).toContain('tx_hash');
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    });

    it('hides deposits to other users’ wallets (404), by id, by transaction and by wallet', async () => {
      const id = await insertDeposit({ address });
      await app.http().get(`/deposits/${id}`).set(bob.auth).expect(404);
      await app.http().get(`/deposits/tx/${TX}`).set(bob.auth).expect(404);
      await app.http().get(`/deposits/wallet/${wallet}`).set(bob.auth).expect(404);
      await app.http().get(`/deposits/${randomUUID()}`).set(alice.auth).expect(404);
    });

    it('pages a wallet’s deposits newest first with a cursor, without skipping or repeating', async () => {
      const pageAddress = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65';
      const created = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: pageAddress })
        .expect(201);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two deposits share each timestamp, so the id breaks ties.
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 2))).toISOString();
        ids.push(await insertDeposit({ address: pageAddress, detectedAt: at }));
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string | number> = { limit: 3 };
        if (cursor) query.cursor = cursor;
        const res = await app
          .http()
          .get(`/deposits/wallet/${created.body.id}`)
          .query(query)
          .set(alice.auth)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items.map((d: { id: string }) => d.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect(new Set(seen)).toEqual(new Set(ids));
    });

    it('filters by status and network', async () => {
      const filterAddress = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
      const created = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: filterAddress })
        .expect(201);
      const done = await insertDeposit({ address: filterAddress, status: 'completed' });
      const sepolia = await insertDeposit({ address: filterAddress, network: 'sepolia' });
      const base = `/deposits/wallet/${created.body.id}`;
      const completed = await app.http().get(base).query({ status: 'completed' }).set(alice.auth).expect(200);
      expect(completed.body.items.map((d: { id: string }) => d.id)).toEqual([done]);
      const onSepolia = await app.http().get(base).query({ network: 'sepolia' }).set(alice.auth).expect(200);
      expect(onSepolia.body.items.map((d: { id: string }) => d.id)).toEqual([sepolia]);
      expect(onSepolia.body.items[0].required_confirmations).toBe(12);
    });

    it('answers 400 naming the parameter for bad filters, limits, cursors and hashes', async () => {
      const base = `/deposits/wallet/${wallet}`;
      for (const [query, name] of [
        [{ status: 'lost' }, 'status'],
        [{ limit: 501 }, 'limit'],
        [{ limit: 0 }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ cursor: 'garbage' }, 'cursor'],
        [{ network: 'Not A Key!' }, 'network'],
        [{ page: 2 }, 'page'],
      ] as const) {
        const res = await app.http().get(base).query(query).set(alice.auth);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.message)).toContain(name);
      }
      const hash = await app.http().get('/deposits/tx/0x1234').set(alice.auth);
      expect(hash.status).toBe(400);
      expect(JSON.stringify(hash.body.message)).toMatch(/tx_hash/);
      await app.http().get('/deposits/wallet/not-a-uuid').set(alice.auth).expect(400);
      await app.http().get('/deposits/not-a-uuid').set(alice.auth).expect(400);
    });
  });

  describe('networks, health and docs (public)', () => {
    it('lists the seeded networks and gets one by key', async () => {
      const list = await app.http().get('/networks').expect(200);
      const byKey = Object.fromEntries(list.body.map((n: { key: string }) => [n.key, n]));
      expect(byKey.devnet).toMatchObject({ chain_id: '31337', required_confirmations: 3, enabled: true });
      expect(byKey.sepolia).toMatchObject({
        chain_id: '11155111',
        required_confirmations: 12,
        enabled: true,
      });
      expect(byKey.mainnet).toMatchObject({ chain_id: '1', required_confirmations: 12, enabled: false });
      await app.http().get('/networks/sepolia').expect(200);
      await app.http().get('/networks/unknown').expect(404);
      await app.http().get('/networks/BAD KEY').expect(400);
    });

    it('reports the database in /health', async () => {
      await app.http().get('/health').expect(200, { status: 'ok', database: 'up' });
    });

    it('serves Swagger UI and an OpenAPI document with the bearer scheme and every route', async () => {
      await app.http().get('/docs').redirects(1).expect(200);
      const doc = await app.http().get('/docs-json').expect(200);
      expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          '/users',
          '/users/me',
          '/users/{id}',
          '/users/by-email/{email}',
          '/auth/login',
          '/wallets',
          '/wallets/{id}',
          '/wallets/user/{user_id}',
          '/deposits/{id}',
          '/deposits/tx/{tx_hash}',
          '/deposits/wallet/{wallet_id}',
          '/networks',
          '/networks/{key}',
          '/health',
        ]),
      );
      const createWallet = doc.body.components.schemas.CreateWalletDto;
      expect(createWallet.properties.address.example).toBeDefined();
      expect(createWallet.properties.address.description).toBeDefined();
    });
  });

  describe('hostile input', () => {
    it('answers 400 for a body that is not JSON', async () => {
      const res = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .set('Content-Type', 'application/json')
        .send('{"address": ');
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/JSON/);
    });

    it('answers 413 for an oversized body without touching the database', async () => {
      const before = await app.dataSource.query('SELECT count(*)::int AS n FROM users');
      const res = await app
        .http()
        .post('/users')
        .send({ email: 'big@example.com', password: 'x'.repeat(200_000) });
      expect(res.status).toBe(413);
      expect(res.body.message).toMatch(/body/);
      const after = await app.dataSource.query('SELECT count(*)::int AS n FROM users');
      expect(after[0].n).toBe(before[0].n);
    });

    it('answers 400, never 500, for wrong types and nested junk', async () => {
      for (const body of [
        { email: ['a@b.c'], password: 'long enough pw' },
        { email: { $ne: null }, password: 'long enough pw' },
        { email: 'x@example.com', password: 12345678 },
        [],
        'just a string',
      ]) {
        const res = await app
          .http()
          .post('/users')
          .send(body as object);
        expect(res.status).toBe(400);
      }
      const wallet = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: 42, label: 'x'.repeat(101) });
      expect(wallet.status).toBe(400);
      expect(JSON.stringify(wallet.body.message)).toMatch(/address/);
      expect(JSON.stringify(wallet.body.message)).toMatch(/label/);
    });
  });
});
