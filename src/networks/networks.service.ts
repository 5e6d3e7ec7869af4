import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { findOrFail } from '../common/find-or-fail.js';
import { type NetworkResponseDto, toNetworkResponse } from './dto/network-response.dto.js';
import { Network } from './network.entity.js';

@Injectable()
export class NetworksService {
  constructor(private readonly dataSource: DataSource) {}

  async list(): Promise<NetworkResponseDto[]> {
    const networks = await this.dataSource.getRepository(Network).find({ order: { chainId: 'ASC' } });
    const internal = await this.internalTransfers();
    return networks.map((n) => toNetworkResponse(n, internal.get(n.id) ?? null));
  }

  async get(key: string): Promise<NetworkResponseDto> {
    const network = findOrFail(await this.dataSource.getRepository(Network).findOneBy({ key }), 'network');
    return toNetworkResponse(network, (await this.internalTransfers(network.id)).get(network.id) ?? null);
  }

  /** What each network's follower found out about its node's traces (chain_cursors, by network id). */
  private async internalTransfers(networkId?: string): Promise<Map<string, boolean | null>> {
    const rows: { network_id: string; internal_transfers: boolean | null }[] = await this.dataSource.query(
      `SELECT network_id, internal_transfers FROM chain_cursors WHERE $1::uuid IS NULL OR network_id = $1`,
      [networkId ?? null],
    );
    return new Map(rows.map((r) => [r.network_id, r.internal_transfers]));
  }
}
