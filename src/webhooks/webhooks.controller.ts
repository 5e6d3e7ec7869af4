import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { IdParamDto } from '../common/params.dto.js';
import {
  CreateWebhookDto,
  DeliveriesPageDto,
  DeliveriesQueryDto,
  MessageIdParamDto,
  QueuedMessageDto,
  ReplayDto,
  ReplayResponseDto,
  UpdateWebhookDto,
  WebhookResponseDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

const NOT_YOURS = 'No such webhook endpoint among the caller’s';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiCreatedResponse({ type: WebhookWithSecretDto, description: 'The endpoint and its signing secret' })
  @ApiBadRequestResponse({ description: 'Bad or unsafe url, unknown event type, a wallet not yours' })
  @ApiConflictResponse({ description: 'WEBHOOK_MAX_ENDPOINTS_PER_USER reached' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    return this.webhooks.create(user, body);
  }

  @Get()
  @ApiOkResponse({ type: [WebhookResponseDto], description: 'The caller’s endpoints, oldest first' })
  list(@CurrentUser() user: AuthUser): Promise<WebhookResponseDto[]> {
    return this.webhooks.list(user);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  get(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<WebhookResponseDto> {
    return this.webhooks.get(user, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiBadRequestResponse({ description: 'Bad or unsafe url, unknown event type, a wallet not yours' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  update(
    @CurrentUser() user: AuthUser,
    @Param() { id }: IdParamDto,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookResponseDto> {
    return this.webhooks.update(user, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted with its messages' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  delete(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    return this.webhooks.delete(user, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({
    type: WebhookWithSecretDto,
    description: 'The new secret; the old one also signs until previous_secret_expires_at',
  })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  rotateSecret(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<WebhookWithSecretDto> {
    return this.webhooks.rotateSecret(user, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: QueuedMessageDto, description: 'A webhook_test message is queued' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'The endpoint is disabled' })
  test(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<QueuedMessageDto> {
    return this.webhooks.sendTest(user, id);
  }

  @Get(':id/deliveries')
  @ApiOkResponse({
    type: DeliveriesPageDto,
    description:
      'Messages with every attempt, newest first. A message that finished (succeeded or failed) is kept for WEBHOOK_RETENTION_DAYS (default 30) after it finished, then deleted with its attempts; pending ones are kept.',
  })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  deliveries(
    @CurrentUser() user: AuthUser,
    @Param() { id }: IdParamDto,
    @Query() query: DeliveriesQueryDto,
  ): Promise<DeliveriesPageDto> {
    return this.webhooks.deliveries(user, id, query);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ReplayResponseDto })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'The endpoint is disabled' })
  replay(
    @CurrentUser() user: AuthUser,
    @Param() { id }: IdParamDto,
    @Body() body: ReplayDto,
  ): Promise<ReplayResponseDto> {
    return this.webhooks.replay(user, id, body);
  }

  @Post(':id/deliveries/:message_id/redeliver')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: QueuedMessageDto, description: 'Sent again with the same webhook-id' })
  @ApiNotFoundResponse({ description: 'No such endpoint or message among the caller’s' })
  @ApiConflictResponse({ description: 'The endpoint is disabled' })
  redeliver(
    @CurrentUser() user: AuthUser,
    @Param() { id, message_id }: MessageIdParamDto,
  ): Promise<QueuedMessageDto> {
    return this.webhooks.redeliver(user, id, message_id);
  }
}
