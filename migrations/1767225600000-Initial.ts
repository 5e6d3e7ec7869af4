import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts, networks, deposits, and what the chain monitor keeps: a cursor and a hash-linked window
 * of recent blocks per network, the tokens it watches, and the append-only event log that the
 * realtime gateway replays from.
 */
export class Initial1767225600000 implements MigrationInterface {
  name = 'Initial1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE blockchain_networks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9_-]+$'),
        chain_id bigint NOT NULL UNIQUE CHECK (chain_id > 0),
        name text NOT NULL,
        native_symbol text NOT NULL,
        native_decimals smallint NOT NULL CHECK (native_decimals BETWEEN 0 AND 77),
        required_confirmations integer NOT NULL CHECK (required_confirmations >= 1),
        finality_rule text NOT NULL DEFAULT 'confirmations' CHECK (finality_rule IN ('confirmations', 'finalized')),
        block_time_ms integer NOT NULL CHECK (block_time_ms > 0),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO blockchain_networks
        (key, chain_id, name, native_symbol, native_decimals, required_confirmations, finality_rule, block_time_ms, enabled)
      VALUES
        ('devnet', 31337, 'Local devnet (anvil)', 'ETH', 18, 3, 'confirmations', 2000, true),
        ('sepolia', 11155111, 'Ethereum Sepolia', 'ETH', 18, 12, 'confirmations', 12000, true),
        ('mainnet', 1, 'Ethereum Mainnet', 'ETH', 18, 12, 'confirmations', 12000, false)`);

    await q.query(`
      CREATE TABLE tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        network_id uuid NOT NULL REFERENCES blockchain_networks(id) ON DELETE CASCADE,
        contract_address text NOT NULL CHECK (contract_address ~ '^0x[0-9a-f]{40}$'),
        symbol text NOT NULL,
        decimals smallint NOT NULL CHECK (decimals BETWEEN 0 AND 77),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (network_id, contract_address)
      )`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);

    await q.query(`
      CREATE TABLE wallets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        address text NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
        label text,
        start_block bigint CHECK (start_block >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, address)
      )`);
    await q.query(`CREATE INDEX wallets_address_idx ON wallets (address)`);
    await q.query(`CREATE INDEX wallets_user_created_idx ON wallets (user_id, created_at, id)`);

    // A deposit belongs to an address on a network, not to one user's wallet row: two users may
    // watch the same address, and deleting a wallet must not erase what the chain did.
    await q.query(`
      CREATE TABLE deposits (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        network_id uuid NOT NULL REFERENCES blockchain_networks(id),
        tx_hash text NOT NULL CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
        log_index integer NOT NULL CHECK (log_index >= -1),
        block_number bigint NOT NULL CHECK (block_number >= 0),
        block_hash text NOT NULL CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
        from_address text NOT NULL,
        wallet_address text NOT NULL CHECK (wallet_address ~ '^0x[0-9a-f]{40}$'),
        asset_type text NOT NULL CHECK (asset_type IN ('native', 'erc20')),
        asset_symbol text NOT NULL,
        asset_contract text,
        asset_decimals smallint NOT NULL,
        amount numeric(78, 0) NOT NULL CHECK (amount >= 0),
        confirmations integer NOT NULL DEFAULT 1,
        required_confirmations integer NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'orphaned')),
        detected_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        orphaned_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT deposits_network_tx_log_key UNIQUE (network_id, tx_hash, log_index),
        CHECK ((asset_type = 'native') = (log_index = -1))
      )`);
    await q.query(
      `CREATE INDEX deposits_wallet_detected_idx ON deposits (wallet_address, detected_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX deposits_tx_hash_idx ON deposits (tx_hash)`);
    // The follower's per-head work: pending deposits of one network, and the deposits of a block.
    await q.query(
      `CREATE INDEX deposits_pending_idx ON deposits (network_id, block_number) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX deposits_block_idx ON deposits (network_id, block_hash)`);

    await q.query(`
      CREATE TABLE chain_cursors (
        network_id uuid PRIMARY KEY REFERENCES blockchain_networks(id) ON DELETE CASCADE,
        block_number bigint NOT NULL,
        block_hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The canonical recent chain as the follower last saw it: one row per height, hash-linked.
    await q.query(`
      CREATE TABLE chain_blocks (
        network_id uuid NOT NULL REFERENCES blockchain_networks(id) ON DELETE CASCADE,
        number bigint NOT NULL,
        hash text NOT NULL,
        parent_hash text NOT NULL,
        PRIMARY KEY (network_id, number)
      )`);

    // Append-only; `id` grows in commit order because writers take a transaction lock first.
    await q.query(`
      CREATE TABLE event_log (
        id bigserial PRIMARY KEY,
        type text NOT NULL,
        room text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX event_log_room_id_idx ON event_log (room, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_log`);
    await q.query(`DROP TABLE chain_blocks`);
    await q.query(`DROP TABLE chain_cursors`);
    await q.query(`DROP TABLE deposits`);
    await q.query(`DROP TABLE wallets`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE tokens`);
    await q.query(`DROP TABLE blockchain_networks`);
  }
}
