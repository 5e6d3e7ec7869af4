import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the chain monitor needs beyond the initial schema:
 * - `wallets.watch_seq`: a number given to each new wallet from a one-row counter that the
 *   inserting transaction holds locked until it commits, so seq order is commit order. A follower
 *   asks "wallets with seq > the last I saw" before each block and can never skip one that
 *   committed before it looked (NOTIFY alone is asynchronous and could arrive after the block).
 * - NOTIFY on wallet and token changes, so monitor processes apply them at once (the API may run in
 *   another process).
 * - `chain_cursors.wallet_seq`: the last wallet seq a network's follower has accounted for, so a
 *   restart knows which wallets were added while it was away (their `start_block` backfill).
 * - `wallet_backfills`: progress of the per-wallet history backfill (`start_block`), per network.
 * - an index for the follower's per-height deposit lookups (any status), and free room in the
 *   deposits table's pages for the per-head confirmation updates.
 */
export class Monitor1767225650000 implements MigrationInterface {
  name = 'Monitor1767225650000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wallet_watch_seq (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        value bigint NOT NULL
      )`);
    await q.query(`ALTER TABLE wallets ADD COLUMN watch_seq bigint`);
    await q.query(`
      UPDATE wallets w SET watch_seq = s.rn
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM wallets) s
       WHERE w.id = s.id`);
    await q.query(
      `INSERT INTO wallet_watch_seq (singleton, value) SELECT true, coalesce(max(watch_seq), 0) FROM wallets`,
    );
    await q.query(`
      CREATE FUNCTION monitor_wallet_seq() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The row lock on the counter is held until this transaction ends: seq order = commit order.
        UPDATE wallet_watch_seq SET value = value + 1 RETURNING value INTO NEW.watch_seq;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER wallets_watch_seq BEFORE INSERT ON wallets
        FOR EACH ROW EXECUTE FUNCTION monitor_wallet_seq()`);
    await q.query(`ALTER TABLE wallets ALTER COLUMN watch_seq SET NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX wallets_watch_seq_key ON wallets (watch_seq)`);

    await q.query(`
      CREATE FUNCTION monitor_wallet_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('monitor_wallets', json_build_object('op', 'delete', 'address', OLD.address)::text);
          RETURN OLD;
        END IF;
        PERFORM pg_notify('monitor_wallets',
          json_build_object('op', 'insert', 'address', NEW.address, 'seq', NEW.watch_seq)::text);
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER wallets_notify AFTER INSERT OR DELETE ON wallets
        FOR EACH ROW EXECUTE FUNCTION monitor_wallet_notify()`);

    await q.query(`
      CREATE FUNCTION monitor_token_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('monitor_tokens', coalesce(NEW.network_id, OLD.network_id)::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER tokens_notify AFTER INSERT OR UPDATE OR DELETE ON tokens
        FOR EACH ROW EXECUTE FUNCTION monitor_token_notify()`);

    await q.query(`ALTER TABLE chain_cursors ADD COLUMN wallet_seq bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE wallet_backfills (
        wallet_id uuid NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
        network_id uuid NOT NULL REFERENCES blockchain_networks(id) ON DELETE CASCADE,
        next_block bigint NOT NULL,
        end_block bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (wallet_id, network_id)
      )`);
    await q.query(
      `CREATE INDEX wallet_backfills_open_idx ON wallet_backfills (network_id) WHERE next_block <= end_block`,
    );
    await q.query(`CREATE INDEX deposits_network_block_number_idx ON deposits (network_id, block_number)`);
    // Every head rewrites the confirmations of all pending deposits; free room in each page lets
    // PostgreSQL do that as heap-only updates instead of new entries in every index.
    await q.query(`ALTER TABLE deposits SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deposits RESET (fillfactor)`);
    await q.query(`DROP INDEX deposits_network_block_number_idx`);
    await q.query(`DROP TABLE wallet_backfills`);
    await q.query(`ALTER TABLE chain_cursors DROP COLUMN wallet_seq`);
    await q.query(`DROP TRIGGER tokens_notify ON tokens`);
    await q.query(`DROP FUNCTION monitor_token_notify()`);
    await q.query(`DROP TRIGGER wallets_notify ON wallets`);
    await q.query(`DROP FUNCTION monitor_wallet_notify()`);
    await q.query(`DROP TRIGGER wallets_watch_seq ON wallets`);
    await q.query(`DROP FUNCTION monitor_wallet_seq()`);
    await q.query(`ALTER TABLE wallets DROP COLUMN watch_seq`);
    await q.query(`DROP TABLE wallet_watch_seq`);
  }
}
