import { deriveNetworkStatus, type StoredNetworkStatus } from './network-status.js';

const now = new Date('2026-12-05T08:00:00.000Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);
const row = (patch: Partial<StoredNetworkStatus> = {}): StoredNetworkStatus => ({
  state: 'following',
  head_block: '110',
  cursor_block: '109',
  last_block_at: secondsAgo(2),
  error: null,
  ...patch,
});
const enabled = { enabled: true };

describe(deriveNetworkStatus.name, () => {
  it('is following when the cursor is close to the head and moved recently', () => {
    expect(deriveNetworkStatus(enabled, row(), now, 30_000)).toEqual({
      state: 'following',
      head_block: '110',
      cursor_block: '109',
      lag_blocks: '1',
      last_block_at: secondsAgo(2).toISOString(),
      error: null,
    });
  });

  it('is catching up when the cursor is more than two blocks behind', () => {
    const status = deriveNetworkStatus(enabled, row({ head_block: '200', cursor_block: '150' }), now, 30_000);
    expect(status).toMatchObject({ state: 'catching_up', lag_blocks: '50' });
  });

  it('is stalled when the cursor has not moved for longer than the stall timeout, or nobody reported', () => {
    expect(deriveNetworkStatus(enabled, row({ last_block_at: secondsAgo(31) }), now, 30_000)).toMatchObject({
      state: 'stalled',
      error: 'no new block for more than 30 s',
    });
    expect(deriveNetworkStatus(enabled, undefined, now, 30_000)).toMatchObject({
      state: 'stalled',
      head_block: null,
      lag_blocks: null,
    });
  });

  it('shows what the leader reported: no endpoint, or an error with its message', () => {
    expect(
      deriveNetworkStatus(enabled, row({ state: 'error', error: 'chain id mismatch' }), now, 30_000),
    ).toMatchObject({ state: 'error', error: 'chain id mismatch' });
    expect(deriveNetworkStatus(enabled, row({ state: 'no_endpoint' }), now, 30_000).state).toBe(
      'no_endpoint',
    );
  });

  it('is disabled when the network is, whatever was reported before', () => {
    expect(
      deriveNetworkStatus({ enabled: false }, row({ state: 'error', error: 'x' }), now, 30_000),
    ).toMatchObject({ state: 'disabled', error: null, cursor_block: '109' });
  });

  it('never shows a negative lag (the head row may trail a fresh cursor)', () => {
    expect(
      deriveNetworkStatus(enabled, row({ head_block: '100', cursor_block: '101' }), now, 30_000).lag_blocks,
    ).toBe('0');
  });
});
