import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';

import { AdminOnly } from '../auth/admin.guard.js';
import { Public } from '../auth/public.decorator.js';
import { NetworkKeyParamDto, NetworkResponseDto } from './dto/network-response.dto.js';
import {
  CreateNetworkTokenDto,
  NetworkTokenParamDto,
  NetworkTokenResponseDto,
} from './dto/network-token.dto.js';
import { UpdateNetworkDto } from './dto/update-network.dto.js';
import { NetworksService } from './networks.service.js';

@ApiTags('networks')
@Controller('networks')
export class NetworksController {
  constructor(private readonly networks: NetworksService) {}

  @Get()
  @Public()
  @ApiOkResponse({ type: [NetworkResponseDto] })
  list(): Promise<NetworkResponseDto[]> {
    return this.networks.list();
  }

  @Get(':key')
  @Public()
  @ApiOkResponse({ type: NetworkResponseDto })
  @ApiNotFoundResponse({ description: 'No network with that key' })
  get(@Param() { key }: NetworkKeyParamDto): Promise<NetworkResponseDto> {
    return this.networks.get(key);
  }

  @Patch(':key')
  @AdminOnly()
  @ApiOkResponse({ type: NetworkResponseDto, description: 'Applied in every process within about a block' })
  @ApiBadRequestResponse({ description: 'A bad value (named), or nothing to change' })
  @ApiNotFoundResponse({ description: 'No network with that key' })
  update(
    @Param() { key }: NetworkKeyParamDto,
    @Body() change: UpdateNetworkDto,
  ): Promise<NetworkResponseDto> {
    return this.networks.update(key, change);
  }

  @Post(':key/tokens')
  @AdminOnly()
  @ApiCreatedResponse({ type: NetworkTokenResponseDto, description: 'Watched from the next block' })
  @ApiNotFoundResponse({ description: 'No network with that key' })
  @ApiConflictResponse({ description: 'Already a token of this network' })
  addToken(
    @Param() { key }: NetworkKeyParamDto,
    @Body() token: CreateNetworkTokenDto,
  ): Promise<NetworkTokenResponseDto> {
    return this.networks.addToken(key, token);
  }

  @Delete(':key/tokens/:address')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Not watched any more from the next block; recorded deposits stay' })
  @ApiNotFoundResponse({ description: 'No such network or token' })
  removeToken(@Param() { key, address }: NetworkTokenParamDto): Promise<void> {
    return this.networks.removeToken(key, address);
  }
}
