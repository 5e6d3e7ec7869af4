import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { IdParamDto } from '../common/params.dto.js';
import { AlertsService } from './alerts.service.js';
import {
  AlertResponseDto,
  CreateAlertDto,
  HistoryPageDto,
  HistoryQueryDto,
  UpdateAlertDto,
} from './dto/alert.dto.js';

const NOT_YOURS = 'No such alert among the caller’s';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Post()
  @ApiCreatedResponse({ type: AlertResponseDto, description: 'Evaluated from the next price on' })
  @ApiBadRequestResponse({
    description: 'Unknown symbol, malformed threshold, window_seconds missing (pct_change) or not allowed',
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateAlertDto): Promise<AlertResponseDto> {
    return this.alerts.create(user, body);
  }

  @Get()
  @ApiOkResponse({ type: [AlertResponseDto], description: 'The caller’s alerts, oldest first' })
  list(@CurrentUser() user: AuthUser): Promise<AlertResponseDto[]> {
    return this.alerts.list(user);
  }

  @Get('history')
  @ApiOkResponse({ type: HistoryPageDto, description: 'Every firing of the caller’s alerts, newest first' })
  history(@CurrentUser() user: AuthUser, @Query() query: HistoryQueryDto): Promise<HistoryPageDto> {
    return this.alerts.history(user, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: AlertResponseDto })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  get(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<AlertResponseDto> {
    return this.alerts.get(user, id);
  }

  @Get(':id/history')
  @ApiOkResponse({ type: HistoryPageDto, description: 'Firings of this alert, newest first' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  alertHistory(
    @CurrentUser() user: AuthUser,
    @Param() { id }: IdParamDto,
    @Query() query: HistoryQueryDto,
  ): Promise<HistoryPageDto> {
    return this.alerts.history(user, query, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: AlertResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed threshold or cooldown' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  update(
    @CurrentUser() user: AuthUser,
    @Param() { id }: IdParamDto,
    @Body() body: UpdateAlertDto,
  ): Promise<AlertResponseDto> {
    return this.alerts.update(user, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; its history stays (alert_id null)' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  delete(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    return this.alerts.delete(user, id);
  }
}
