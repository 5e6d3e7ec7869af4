import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type FinalityRule = 'confirmations' | 'finalized';

@Entity('blockchain_networks')
export class Network {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') key: string;
  /** bigint column: arrives as a decimal string. */
  @Column('bigint', { name: 'chain_id' }) chainId: string;
  @Column('text') name: string;
  @Column('text', { name: 'native_symbol' }) nativeSymbol: string;
  @Column('smallint', { name: 'native_decimals' }) nativeDecimals: number;
  @Column('integer', { name: 'required_confirmations' }) requiredConfirmations: number;
  @Column('text', { name: 'finality_rule' }) finalityRule: FinalityRule;
  @Column('integer', { name: 'block_time_ms' }) blockTimeMs: number;
  @Column('boolean') enabled: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
