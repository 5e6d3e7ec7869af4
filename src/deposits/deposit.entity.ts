import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type DepositStatus = 'pending' | 'completed' | 'orphaned';
export type AssetType = 'native' | 'erc20';

/**
 * Read model for the REST API. The monitor writes deposits with set-based SQL in
 * DepositsRepository; bigint and numeric columns arrive as decimal strings and stay strings.
 */
@Entity('deposits')
export class Deposit {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'network_id' }) networkId: string;
  @Column('text', { name: 'tx_hash' }) txHash: string;
  /** -1 for a native transfer. */
  @Column('integer', { name: 'log_index' }) logIndex: number;
  /** Of an internal transfer: its call's trace address, dot-separated ('0.1'); '' otherwise. */
  @Column('text', { name: 'trace_address' }) traceAddress: string;
  @Column('bigint', { name: 'block_number' }) blockNumber: string;
  @Column('text', { name: 'block_hash' }) blockHash: string;
  @Column('text', { name: 'from_address' }) fromAddress: string;
  @Column('text', { name: 'wallet_address' }) walletAddress: string;
  @Column('text', { name: 'asset_type' }) assetType: AssetType;
  @Column('text', { name: 'asset_symbol' }) assetSymbol: string;
  @Column('text', { name: 'asset_contract', nullable: true }) assetContract: string | null;
  @Column('smallint', { name: 'asset_decimals' }) assetDecimals: number;
  /** Base units, numeric(78,0). */
  @Column('numeric', { precision: 78, scale: 0 }) amount: string;
  @Column('integer') confirmations: number;
  @Column('integer', { name: 'required_confirmations' }) requiredConfirmations: number;
  @Column('text') status: DepositStatus;
  @Column('timestamptz', { name: 'detected_at' }) detectedAt: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
  @Column('timestamptz', { name: 'orphaned_at', nullable: true }) orphanedAt: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
