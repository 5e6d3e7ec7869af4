import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-events.js';
import { IdCursorPageQueryDto } from '../../common/params.dto.js';

const MAX_WALLET_IDS = 1000;

export class CreateWebhookDto {
  @ApiProperty({
    description: 'Where to POST: https:// (http:// too outside production); never a private address',
    example: 'https://payments.example.com/webhooks/deposits',
  })
  @IsString({ message: 'url must be a string' })
  @MaxLength(2000, { message: 'url must be at most 2000 characters' })
  url: string;

  @ApiPropertyOptional({
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    description: 'Only these event types (default: all of them, also those added later)',
    example: ['deposit_detected', 'deposit_completed'],
  })
  @IsOptional()
  @IsArray({ message: 'event_types must be an array' })
  @ArrayMinSize(1, { message: 'event_types must name at least one type (omit it for all)' })
  @ArrayUnique({ message: 'event_types must not repeat a type' })
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `event_types must each be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  event_types?: WebhookEventType[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Only deposit events of these wallets of yours (default: all your wallets)',
    example: ['3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11'],
  })
  @IsOptional()
  @IsArray({ message: 'wallet_ids must be an array' })
  @ArrayMinSize(1, { message: 'wallet_ids must name at least one wallet (omit it for all)' })
  @ArrayMaxSize(MAX_WALLET_IDS, { message: `wallet_ids must list at most ${MAX_WALLET_IDS} wallets` })
  @ArrayUnique({ message: 'wallet_ids must not repeat a wallet' })
  @IsUUID('all', { each: true, message: 'wallet_ids must each be a wallet id (UUID)' })
  wallet_ids?: string[];

  @ApiPropertyOptional({ example: 'Ledger service, production' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ example: 'https://payments.example.com/webhooks/v2' })
  @IsOptional()
  @IsString({ message: 'url must be a string' })
  @MaxLength(2000, { message: 'url must be at most 2000 characters' })
  url?: string;

  @ApiPropertyOptional({
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    nullable: true,
    description: 'null = all event types',
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsArray({ message: 'event_types must be an array or null' })
  @ArrayMinSize(1, { message: 'event_types must name at least one type (null for all)' })
  @ArrayUnique({ message: 'event_types must not repeat a type' })
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `event_types must each be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  event_types?: WebhookEventType[] | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null = all your wallets' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsArray({ message: 'wallet_ids must be an array or null' })
  @ArrayMinSize(1, { message: 'wallet_ids must name at least one wallet (null for all)' })
  @ArrayMaxSize(MAX_WALLET_IDS, { message: `wallet_ids must list at most ${MAX_WALLET_IDS} wallets` })
  @ArrayUnique({ message: 'wallet_ids must not repeat a wallet' })
  @IsUUID('all', { each: true, message: 'wallet_ids must each be a wallet id (UUID)' })
  wallet_ids?: string[] | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString({ message: 'description must be a string or null' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string | null;

  @ApiPropertyOptional({
    description:
      'false pauses delivery (events meanwhile are not queued); true resumes and clears disabled_reason',
    example: true,
  })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class WebhookResponseDto {
  @ApiProperty({ example: '0b6c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f' })
  id: string;

  @ApiProperty({ example: 'https://payments.example.com/webhooks/deposits' })
  url: string;

  @ApiProperty({ nullable: true, type: String, example: 'Ledger service' })
  description: string | null;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, nullable: true, description: 'null = all' })
  event_types: string[] | null;

  @ApiProperty({ type: [String], nullable: true, description: 'null = all your wallets' })
  wallet_ids: string[] | null;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Why the service disabled it (every attempt of a message failed for its whole retry schedule)',
    example: null,
  })
  disabled_reason: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'After a rotation: the old secret also signs until then',
    example: null,
  })
  previous_secret_expires_at: string | null;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  updated_at: string;
}

export class WebhookWithSecretDto extends WebhookResponseDto {
  @ApiProperty({
    description: 'The signing secret; shown only now (and on rotation)',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class MessageIdParamDto {
  @ApiProperty({ description: 'Endpoint id (UUID)' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;

  @ApiProperty({
    description: 'A message’s webhook-id (msg_…)',
    example: 'msg_6a0f3c1e7d4a4e0b8f551a2b3c4d5e6f',
  })
  @Matches(/^msg_[0-9a-f]{32}$/, { message: 'message_id must be a webhook-id such as msg_6a0f…' })
  message_id: string;
}

export class ReplayDto {
  @ApiProperty({
    description: 'Re-queue every matching event after this event_id (the last one you processed)',
    example: 1200,
  })
  @IsInt({ message: 'since_event_id must be a whole number' })
  @Min(0, { message: 'since_event_id must be at least 0' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'since_event_id is too large' })
  since_event_id: number;
}

export class ReplayResponseDto {
  @ApiProperty({
    description: 'Messages queued (new, or re-queued with their original webhook-id)',
    example: 42,
  })
  queued: number;

  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Set when the replay stopped at its cap: call again with this as since_event_id',
    example: null,
  })
  continue_after_event_id: number | null;

  @ApiProperty({
    description:
      'True when the event log no longer holds every event after since_event_id: its retention ' +
      '(EVENT_LOG_RETENTION_DAYS) deleted events up to an id above it, so those were not queued',
    example: false,
  })
  truncated: boolean;
}

export class QueuedMessageDto {
  @ApiProperty({
    description: 'The webhook-id it is sent with',
    example: 'msg_6a0f3c1e7d4a4e0b8f551a2b3c4d5e6f',
  })
  message_id: string;
}

export class DeliveriesQueryDto extends IdCursorPageQueryDto {}

export class AttemptDto {
  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  attempted_at: string;

  @ApiProperty({ nullable: true, type: Number, description: 'null: no HTTP response', example: 500 })
  status_code: number | null;

  @ApiProperty({ example: 42 })
  latency_ms: number;

  @ApiProperty({ nullable: true, type: String, example: 'HTTP 500: oops' })
  error: string | null;
}

export class DeliveryDto {
  @ApiProperty({
    description: 'The webhook-id (same on every attempt)',
    example: 'msg_6a0f3c1e7d4a4e0b8f551a2b3c4d5e6f',
  })
  message_id: string;

  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'event_log id; null for a test message',
    example: 1201,
  })
  event_id: number | null;

  @ApiProperty({ example: 'deposit_detected' })
  event_type: string;

  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'], example: 'succeeded' })
  status: 'pending' | 'succeeded' | 'failed';

  @ApiProperty({ nullable: true, type: String, description: 'When the next attempt is due (pending only)' })
  next_attempt_at: string | null;

  @ApiProperty({ description: 'The body sent: {type, timestamp, data}' })
  payload: unknown;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ type: [AttemptDto], description: 'Oldest first' })
  attempts: AttemptDto[];
}

export class DeliveriesPageDto {
  @ApiProperty({ type: [DeliveryDto], description: 'Newest first' })
  items: DeliveryDto[];

  @ApiProperty({ nullable: true, type: String })
  next_cursor: string | null;
}
