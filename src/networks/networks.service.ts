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
    return networks.map(toNetworkResponse);
  }

  async get(key: string): Promise<NetworkResponseDto> {
    return toNetworkResponse(
      findOrFail(await this.dataSource.getRepository(Network).findOneBy({ key }), 'network'),
    );
  }
}
