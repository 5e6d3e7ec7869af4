import {
  applyDepositEvent,
  applyDepositEvents,
  type DepositEvent,
  type DepositView,
  emptyLive,
  mergeDeposits,
} from './deposit-events';

const WALLET = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function event(
  event_id: number,
  type: DepositEvent['type'],
  deposit: string,
  confirmations: number,
  status: DepositEvent['data']['status'] = 'pending',
): DepositEvent {
  return {
    event_id,
    type,
    data: {
      deposit_id: deposit,
      network: 'devnet',
      chain_id: '31337',
      tx_hash: `0x${deposit.padStart(64, '0')}`,
      log_index: -1,
      block_number: '10',
      from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      wallet_address: WALLET,
      asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
      amount: '1.000000000000000001',
      confirmations,
      required_confirmations: 3,
      status,
    },
  };
}

/** The server's stream for one deposit a, then b: detected, confirmations, completed. */
const STREAM: DepositEvent[] = [
  event(1, 'deposit_detected', 'a', 1),
  event(2, 'confirmation_update', 'a', 2),
  event(3, 'deposit_detected', 'b', 1),
  event(4, 'deposit_completed', 'a', 3, 'completed'),
  event(5, 'confirmation_update', 'b', 2),
  event(6, 'deposit_orphaned', 'b', 0, 'orphaned'),
];

const view = (state: ReturnType<typeof emptyLive>) =>
  state.rows.map(({ row }) => `${row.id}:${row.status}:${row.confirmations}`);

describe('live deposit events', () => {
  it('adds a detected deposit on top and advances it with each update to completion', () => {
    const state = applyDepositEvents(emptyLive(), STREAM.slice(0, 4));
    expect(view(state)).toEqual(['b:pending:1', 'a:completed:3']);
    expect(state.lastEventId).toBe(4);
  });

  it('keeps an orphaned deposit, shown as orphaned', () => {
    const state = applyDepositEvents(emptyLive(), STREAM);
    expect(view(state)).toEqual(['b:orphaned:0', 'a:completed:3']);
  });

  it('replays from the last event_id after a reconnect with neither gap nor duplicate', () => {
    // Connected for events 1-3, then the connection dropped while 4-6 happened.
    const before = applyDepositEvents(emptyLive(), STREAM.slice(0, 3));
    const since = before.lastEventId;
    expect(since).toBe(3);
    // The server replays what came after `since` (and, as a recovered session may, repeats one).
    const replayed = STREAM.filter((e) => e.event_id > since);
    const after = applyDepositEvents(before, [STREAM[2], ...replayed, replayed[0]]);
    expect(after).toEqual(applyDepositEvents(emptyLive(), STREAM));
    expect(after.rows).toHaveLength(2);
  });

  it('ignores an older event arriving after a newer one for the same deposit', () => {
    const state = applyDepositEvents(emptyLive(), [STREAM[0], STREAM[3], STREAM[1]]);
    expect(view(state)).toEqual(['a:completed:3']);
    expect(applyDepositEvent(state, STREAM[1])).toBe(state);
  });

  it('overlays live rows on the REST page and puts new ones first on page one only', () => {
    const rest: DepositView[] = [{ ...event(0, 'deposit_detected', 'a', 1).data, id: 'a' }];
    const live = applyDepositEvents(emptyLive(), STREAM.slice(0, 4));
    const first = mergeDeposits(rest, live, { firstPage: true });
    expect(first.map((r) => `${r.id}:${r.status}`)).toEqual(['b:pending', 'a:completed']);
    expect(mergeDeposits(rest, live, { firstPage: false }).map((r) => r.id)).toEqual(['a']);
    expect(
      mergeDeposits([], live, { firstPage: true, wallet: '0x0000000000000000000000000000000000000001' }),
    ).toEqual([]);
  });
});
