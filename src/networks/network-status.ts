/** What GET /networks shows of a network's follower. */
export type NetworkState = 'following' | 'catching_up' | 'stalled' | 'error' | 'disabled' | 'no_endpoint';

export const NETWORK_STATES: readonly NetworkState[] = [
  'following',
  'catching_up',
  'stalled',
  'error',
  'disabled',
  'no_endpoint',
];

/** A row of `network_status`, as written by the monitor process that leads the network. */
export interface StoredNetworkStatus {
  state: 'following' | 'error' | 'no_endpoint';
  head_block: string | null;
  cursor_block: string | null;
  last_block_at: Date | null;
  error: string | null;
}

export interface NetworkStatusView {
  state: NetworkState;
  head_block: string | null;
  cursor_block: string | null;
  lag_blocks: string | null;
  last_block_at: string | null;
  error: string | null;
}

/** More blocks than this between the head and the cursor is catching up, not following. */
export const CATCHING_UP_LAG = 2n;

/**
 * The state a reader shows, from what the leader stored. Stored are only the facts the leader
 * alone knows (it follows; it has no endpoint; it failed, and why); the rest is derived here, at
 * read time, so that it stays true when the leader itself is gone: `stalled` when the cursor has
 * not moved for `stallAfterMs` (the node produces nothing, or no process follows the network any
 * more), `catching_up` when the cursor is more than CATCHING_UP_LAG blocks behind the head.
 */
export function deriveNetworkStatus(
  network: { enabled: boolean },
  stored: StoredNetworkStatus | undefined,
  now: Date,
  stallAfterMs: number,
): NetworkStatusView {
  const head = stored?.head_block ?? null;
  const cursor = stored?.cursor_block ?? null;
  const view: NetworkStatusView = {
    state: 'following',
    head_block: head,
    cursor_block: cursor,
    lag_blocks: head !== null && cursor !== null ? max0(BigInt(head) - BigInt(cursor)).toString() : null,
    last_block_at: stored?.last_block_at?.toISOString() ?? null,
    error: stored?.error ?? null,
  };
  if (!network.enabled) return { ...view, state: 'disabled', error: null };
  if (!stored)
    return { ...view, state: 'stalled', error: 'no monitor process has reported on this network yet' };
  if (stored.state !== 'following') return { ...view, state: stored.state };
  const lastBlockAt = stored.last_block_at?.getTime();
  if (lastBlockAt === undefined || now.getTime() - lastBlockAt > stallAfterMs) {
    return {
      ...view,
      state: 'stalled',
      error: `no new block for more than ${Math.round(stallAfterMs / 1000)} s`,
    };
  }
  return {
    ...view,
    state:
      view.lag_blocks !== null && BigInt(view.lag_blocks) > CATCHING_UP_LAG ? 'catching_up' : 'following',
  };
}

const max0 = (n: bigint): bigint => (n < 0n ? 0n : n);
