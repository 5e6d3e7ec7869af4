import { randomBytes } from 'node:crypto';

import type { DataSource } from 'typeorm';

import type { Hex } from '../../src/common/evm.js';
import type { Anvil } from '../helpers/anvil.js';
import { waitFor } from '../helpers/process.js';

export const randomAddress = (): Hex => `0x${randomBytes(20).toString('hex')}`;

export interface DepositView {
  id: string;
  tx_hash: string;
  log_index: number;
  block_number: string;
  block_hash: string;
  status: string;
  confirmations: number;
  amount: string;
  asset_type: string;
  asset_symbol: string;
  asset_decimals: number;
}

export async function depositsOf(db: DataSource, address: string): Promise<DepositView[]> {
  return db.query(
    `SELECT id, tx_hash, log_index, block_number::text AS block_number, block_hash, status, confirmations,
            amount::text AS amount, asset_type, asset_symbol, asset_decimals
       FROM deposits WHERE wallet_address = $1 ORDER BY deposits.block_number, log_index, tx_hash`,
    [address.toLowerCase()],
  );
}

export async function eventsOf(
  db: DataSource,
  address: string,
): Promise<
  {
    type: string;
    data: {
      deposit_id: string;
      tx_hash: string;
      log_index: number;
      status: string;
      confirmations: number;
      amount: string;
    };
  }[]
> {
  const rows: { type: string; payload: never }[] = await db.query(
    `SELECT type, payload FROM event_log WHERE room = $1 ORDER BY id`,
    [address.toLowerCase()],
  );
  return rows.map((r) => ({ type: r.type, data: r.payload }));
}

export async function cursorOf(
  db: DataSource,
  network = 'devnet',
): Promise<{ number: bigint; hash: string } | undefined> {
  const [row] = await db.query<{ block_number: string; block_hash: string }[]>(
    `SELECT c.block_number::text AS block_number, c.block_hash FROM chain_cursors c
       JOIN blockchain_networks n ON n.id = c.network_id WHERE n.key = $1`,
    [network],
  );
  return row ? { number: BigInt(row.block_number), hash: row.block_hash } : undefined;
}

/**
 * Pending deposits whose confirmations (or completion, on networks counting confirmations) are
 * behind the committed cursor: the follower settles them in a transaction after the block's.
 */
export async function unsettled(db: DataSource, network = 'devnet'): Promise<number> {
  const [row] = await db.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM deposits d
       JOIN blockchain_networks n ON n.id = d.network_id
       JOIN chain_cursors c ON c.network_id = d.network_id
      WHERE n.key = $1 AND d.status = 'pending' AND d.block_number <= c.block_number
        AND (d.confirmations < c.block_number - d.block_number + 1
             OR (n.finality_rule <> 'finalized' AND c.block_number - d.block_number + 1 >= d.required_confirmations))`,
    [network],
  );
  return row?.n ?? 0;
}

/** Waits until the follower's cursor is the node's head (same hash) and confirmations follow it. */
export async function synced(db: DataSource, anvil: Anvil, timeoutMs = 20_000): Promise<bigint> {
  return waitFor(
    async () => {
      const head = await anvil.rpc<{ number: Hex; hash: Hex }>('eth_getBlockByNumber', ['latest', false]);
      const cursor = await cursorOf(db);
      if (cursor?.hash !== head.hash) return undefined;
      return (await unsettled(db)) === 0 ? cursor.number : undefined;
    },
    timeoutMs,
    'the follower to reach the head',
  );
}

/** A raw signed transaction, to mine it again after a reorg dropped it. */
export const rawTransaction = (anvil: Anvil, hash: Hex): Promise<Hex> =>
  anvil.rpc<Hex>('eth_getRawTransactionByHash', [hash]);

export const sendRaw = (anvil: Anvil, raw: Hex): Promise<Hex> =>
  anvil.rpc<Hex>('eth_sendRawTransaction', [raw]);

/**
 * Records, at every commit, each transfer that has two live deposit rows (a deferred constraint
 * trigger on `deposits`, so it sees the state each transaction commits, not its intermediate
 * statements). Returns a reader of what it recorded. Identity: transaction, wallet, token, call
 * (trace address), sender and amount — what upsertDeposits pairs revivals by.
 */
export async function recordDoubleLive(db: DataSource): Promise<() => Promise<string[]>> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS test_double_live (tx_hash text NOT NULL, seen_at timestamptz DEFAULT now())`,
  );
  await db.query(`
    CREATE OR REPLACE FUNCTION test_double_live_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT count(*) FROM deposits d
           WHERE d.network_id = NEW.network_id AND d.tx_hash = NEW.tx_hash AND d.wallet_address = NEW.wallet_address
             AND d.asset_contract IS NOT DISTINCT FROM NEW.asset_contract AND d.trace_address = NEW.trace_address
             AND d.from_address = NEW.from_address AND d.amount = NEW.amount AND d.status <> 'orphaned') > 1 THEN
        INSERT INTO test_double_live (tx_hash) VALUES (NEW.tx_hash);
      END IF;
      RETURN NULL;
    END $$`);
  await db.query(`DROP TRIGGER IF EXISTS test_double_live ON deposits`);
  await db.query(`
    CREATE CONSTRAINT TRIGGER test_double_live AFTER INSERT OR UPDATE ON deposits
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_double_live_check()`);
  return async () =>
    (await db.query<{ tx_hash: string }[]>(`SELECT DISTINCT tx_hash FROM test_double_live`)).map(
      (r) => r.tx_hash,
    );
}
