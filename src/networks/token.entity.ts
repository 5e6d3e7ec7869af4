import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An ERC-20 contract the monitor watches on one network. */
@Entity('tokens')
export class Token {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'network_id' }) networkId: string;
  /** Lower-case hex. */
  @Column('text', { name: 'contract_address' }) contractAddress: string;
  @Column('text') symbol: string;
  @Column('smallint') decimals: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
