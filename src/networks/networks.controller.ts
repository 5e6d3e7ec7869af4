import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { Public } from '../auth/public.decorator.js';
import { NetworkKeyParamDto, NetworkResponseDto } from './dto/network-response.dto.js';
import { NetworksService } from './networks.service.js';

@ApiTags('networks')
@Public()
@Controller('networks')
export class NetworksController {
  constructor(private readonly networks: NetworksService) {}

  @Get()
  @ApiOkResponse({ type: [NetworkResponseDto] })
  list(): Promise<NetworkResponseDto[]> {
    return this.networks.list();
  }

  @Get(':key')
  @ApiOkResponse({ type: NetworkResponseDto })
  @ApiNotFoundResponse({ description: 'No network with that key' })
  get(@Param() { key }: NetworkKeyParamDto): Promise<NetworkResponseDto> {
    return this.networks.get(key);
  }
}
