import { BadRequestException, ConflictException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { isUniqueViolation } from '../common/db-errors.js';
import { normalizeAddress } from '../common/evm.js';
import { findOrFail } from '../common/find-or-fail.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { type NetworkResponseDto, toNetworkResponse } from './dto/network-response.dto.js';
import {
  type CreateNetworkTokenDto,
  type NetworkTokenResponseDto,
  toTokenResponse,
} from './dto/network-token.dto.js';
import type { UpdateNetworkDto } from './dto/update-network.dto.js';
import { Network } from './network.entity.js';
import { deriveNetworkStatus, type StoredNetworkStatus } from './network-status.js';
import { Token } from './token.entity.js';

/** A network is stalled when its cursor has not moved for this many block times (or the stall timeout, if longer). */
const STALL_BLOCKS = 5;

/**
 * Networks as stored, with their followers' status. Every read goes to the database (no cache):
 * an admin's change made in any process is what the next read shows, and monitor processes apply
 * it through NOTIFY `network_settings` (a trigger on blockchain_networks) and `monitor_tokens`.
 */
@Injectable()
export class NetworksService {
  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async list(): Promise<NetworkResponseDto[]> {
    const networks = await this.dataSource.getRepository(Network).find({ order: { chainId: 'ASC' } });
    const [statuses, internal, tokens] = await Promise.all([
      this.statuses(),
      this.internalTransfers(),
      this.tokens(),
    ]);
    return networks.map((n) =>
      this.toResponse(n, statuses.get(n.id), internal.get(n.id) ?? null, tokens.get(n.id) ?? []),
    );
  }

  async get(key: string): Promise<NetworkResponseDto> {
    const network = await this.findByKey(key);
    const [statuses, internal, tokens] = await Promise.all([
      this.statuses(network.id),
      this.internalTransfers(network.id),
      this.tokens(network.id),
    ]);
    return this.toResponse(
      network,
      statuses.get(network.id),
      internal.get(network.id) ?? null,
      tokens.get(network.id) ?? [],
    );
  }

  async update(key: string, change: UpdateNetworkDto): Promise<NetworkResponseDto> {
    const columns = {
      required_confirmations: change.required_confirmations,
      finality_rule: change.finality_rule,
      enabled: change.enabled,
    };
    const set = Object.entries(columns).filter(([, value]) => value !== undefined);
    if (set.length === 0)
      throw new BadRequestException('send at least one of required_confirmations, finality_rule, enabled');
    const [rows] = await this.dataSource.query<[{ id: string }[], number]>(
      `UPDATE blockchain_networks SET ${set.map(([column], i) => `${column} = $${i + 2}`).join(', ')}
        WHERE key = $1 RETURNING id`,
      [key, ...set.map(([, value]) => value)],
    );
    findOrFail(rows[0], 'network');
    return this.get(key);
  }

  async addToken(key: string, dto: CreateNetworkTokenDto): Promise<NetworkTokenResponseDto> {
    const network = await this.findByKey(key);
    const tokens = this.dataSource.getRepository(Token);
    try {
      const token = await tokens.save(
        tokens.create({
          networkId: network.id,
          contractAddress: normalizeAddress(dto.address),
          symbol: dto.symbol,
          decimals: dto.decimals,
        }),
      );
      return toTokenResponse(network.key, token);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictException(`address is already a token of ${network.key}`);
      throw error;
    }
  }

  async removeToken(key: string, address: string): Promise<void> {
    const network = await this.findByKey(key);
    const { affected } = await this.dataSource
      .getRepository(Token)
      .delete({ networkId: network.id, contractAddress: normalizeAddress(address) });
    if (!affected) findOrFail(null, 'token');
  }

  private async findByKey(key: string): Promise<Network> {
    return findOrFail(await this.dataSource.getRepository(Network).findOneBy({ key }), 'network');
  }

  private async statuses(networkId?: string): Promise<Map<string, StoredNetworkStatus>> {
    const rows: (StoredNetworkStatus & { network_id: string })[] = await this.dataSource.query(
      `SELECT network_id, state, head_block::text AS head_block, cursor_block::text AS cursor_block,
              last_block_at, error
         FROM network_status WHERE $1::uuid IS NULL OR network_id = $1::uuid`,
      [networkId ?? null],
    );
    return new Map(rows.map(({ network_id, ...row }) => [network_id, row]));
  }

  /** What each network's follower found out about its node's traces (chain_cursors, by network id). */
  private async internalTransfers(networkId?: string): Promise<Map<string, boolean | null>> {
    const rows: { network_id: string; internal_transfers: boolean | null }[] = await this.dataSource.query(
      `SELECT network_id, internal_transfers FROM chain_cursors WHERE $1::uuid IS NULL OR network_id = $1`,
      [networkId ?? null],
    );
    return new Map(rows.map((r) => [r.network_id, r.internal_transfers]));
  }

  /**
   * Each network's tokens (by network id), by symbol ignoring case, then address: sorted here, so
   * the order does not depend on the database's collation.
   */
  private async tokens(networkId?: string): Promise<Map<string, Token[]>> {
    const rows = await this.dataSource.getRepository(Token).find({ where: networkId ? { networkId } : {} });
    const key = (t: Token) => [t.symbol.toLowerCase(), t.symbol, t.contractAddress];
    const compare = (a: string[], b: string[]) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return 0;
    };
    rows.sort((a, b) => compare(key(a), key(b)));
    const byNetwork = new Map<string, Token[]>();
    for (const token of rows) {
      const tokens = byNetwork.get(token.networkId);
      if (tokens) tokens.push(token);
      else byNetwork.set(token.networkId, [token]);
    }
    return byNetwork;
  }

  private toResponse(
    network: Network,
    stored: StoredNetworkStatus | undefined,
    internalTransfers: boolean | null,
    tokens: Token[],
  ): NetworkResponseDto {
    const stallAfterMs = Math.max(this.config.monitor.stallTimeoutMs, STALL_BLOCKS * network.blockTimeMs);
    return toNetworkResponse(
      network,
      deriveNetworkStatus(network, stored, new Date(), stallAfterMs),
      internalTransfers,
      tokens.map((token) => toTokenResponse(network.key, token)),
    );
  }
}
