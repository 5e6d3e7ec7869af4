import { type DepositStateRow, toDepositResponse } from '../deposits/dto/deposit-response.dto.js';
import type { DepositEventData } from '../events/domain-events.js';
import { depositEvent } from './deposit-events.js';

/**
 * depositEvent's payload is built as one literal (it is on the monitor's hot path); it must stay
 * exactly the REST representation minus timestamps, with `deposit_id` for `id`.
 */
describe('depositEvent', () => {
  const network = { key: 'sepolia', chainId: '11155111' };
  const base: DepositStateRow = {
    id: '3f0c2a1e-5b7d-4c9e-8a6f-1d2e3f4a5b6c',
    network_key: network.key,
    chain_id: network.chainId,
    tx_hash: `0x${'ab'.repeat(32)}`,
    log_index: -1,
    trace_address: '',
    block_number: '123456789012',
    block_hash: `0x${'cd'.repeat(32)}`,
    from_address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    wallet_address: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    asset_type: 'native',
    asset_symbol: 'ETH',
    asset_contract: null,
    asset_decimals: 18,
    amount: '1500000000000000001',
    confirmations: 2,
    required_confirmations: 12,
    status: 'pending',
  };
  const rows: Record<string, DepositStateRow> = {
    native: base,
    internal: { ...base, trace_address: '0.2.1', status: 'completed', confirmations: 12 },
    token: {
      ...base,
      log_index: 7,
      asset_type: 'erc20',
      asset_symbol: 'USDC',
      asset_contract: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48',
      asset_decimals: 6,
      amount: '2500000',
      status: 'orphaned',
    },
  };

  it.each(Object.keys(rows))('a %s deposit: the REST body with deposit_id, in the same key order', (kind) => {
    const row = rows[kind];
    const { network_key: _key, chain_id: _chain, ...columns } = row;
    const event = depositEvent('deposit.confirmation', columns, network);
    const rest = toDepositResponse({
      ...row,
      detected_at: new Date(0),
      completed_at: null,
      orphaned_at: null,
    });
    const { id, detected_at: _detected, completed_at: _completed, orphaned_at: _orphaned, ...body } = rest;
    const expected = { deposit_id: id, ...body };
    expect(event.data).toEqual(expected);
    expect(JSON.stringify(event.data)).toBe(JSON.stringify(expected));
    expect(event.room).toBe(row.wallet_address);
    expect(event.type).toBe('deposit.confirmation');
  });

  it('shows addresses checksummed and the amount in whole units', () => {
    const { data } = depositEvent('deposit.detected', rows.token, network);
    expect(data).toMatchObject({
      wallet_address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      asset: { contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', decimals: 6 },
      amount: '2.5',
      transfer_type: 'token',
    });
    const internal = depositEvent('deposit.detected', rows.internal, network).data as DepositEventData;
    expect(internal.trace_address).toEqual([0, 2, 1]);
  });
});
