import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('wallets')
export class Wallet {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  /** Lower-case hex; shown EIP-55 checksummed. */
  @Column('text') address: string;
  @Column('text', { nullable: true }) label: string | null;
  /** bigint column: a decimal string, or null when only new blocks are watched. */
  @Column('bigint', { name: 'start_block', nullable: true }) startBlock: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
