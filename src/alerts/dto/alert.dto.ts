import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';

import { isSignedDecimal, normalizeDecimal } from '../decimal.js';
import {
  ALERT_CHANNELS,
  ALERT_CONDITIONS,
  type AlertChannel,
  type AlertCondition,
} from '../evaluator/rule.js';
import { IdCursorPageQueryDto } from '../../common/params.dto.js';

export const MAX_COOLDOWN_SECONDS = 30 * 86_400;
export const MAX_WINDOW_SECONDS = 86_400;

/** A decimal written as a JSON string ("50000.5", "-2.5"); a JSON number is refused (no floats for money). */
export function IsDecimalString(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isDecimalString',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a decimal number written as a string, e.g. "50000" or "0.25" (up to 20 integer and 18 fractional digits)`,
        ...options,
      },
      validator: { validate: (value: unknown) => isSignedDecimal(value) },
    });
}

/** Optional, but not null: a `null` is validated (and refused) like any other value, naming the field. */
const IsOptionalNotNull = () => ValidateIf((_, value) => value !== undefined);

const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);

export class CreateAlertDto {
  @ApiProperty({ description: 'A symbol of the feed (ALERT_SYMBOLS); see GET /prices', example: 'BTCUSDT' })
  @Transform(upper)
  @Matches(/^[A-Z0-9]{2,20}$/, { message: 'symbol must be a symbol such as "BTCUSDT"' })
  symbol: string;

  @ApiProperty({
    enum: ALERT_CONDITIONS,
    description:
      'above / below: the price is at or above / at or below the threshold (fires when that becomes true, ' +
      'including on the first fresh price if it already holds); crosses_up / crosses_down: the price moves ' +
      'from the other side to the threshold or beyond (needs an observed crossing); pct_change: the price ' +
      'changed by at least threshold percent over window_seconds (positive = rise, negative = fall)',
    example: 'above',
  })
  @IsIn(ALERT_CONDITIONS, { message: `condition must be one of ${ALERT_CONDITIONS.join(', ')}` })
  condition: AlertCondition;

  @ApiProperty({
    description:
      'Decimal string. A price (> 0) for above/below/crosses_*; a signed percent (≠ 0, > −100) for pct_change',
    example: '50000.50',
  })
  @IsDecimalString()
  threshold: string;

  @ApiPropertyOptional({
    description: 'pct_change only (required there): the window in seconds, 1 to 86400',
    example: 300,
  })
  @IsOptionalNotNull()
  @IsInt({ message: 'window_seconds must be a whole number' })
  @Min(1, { message: 'window_seconds must be at least 1' })
  @Max(MAX_WINDOW_SECONDS, { message: `window_seconds must be at most ${MAX_WINDOW_SECONDS}` })
  window_seconds?: number;

  @ApiPropertyOptional({
    description:
      'After firing, a new crossing within this many seconds is not notified (default ALERT_DEFAULT_COOLDOWN_SECONDS)',
    example: 600,
  })
  @IsOptionalNotNull()
  @IsInt({ message: 'cooldown_seconds must be a whole number' })
  @Min(0, { message: 'cooldown_seconds must be at least 0' })
  @Max(MAX_COOLDOWN_SECONDS, { message: `cooldown_seconds must be at most ${MAX_COOLDOWN_SECONDS}` })
  cooldown_seconds?: number;

  @ApiProperty({
    enum: ALERT_CHANNELS,
    isArray: true,
    description:
      'email (to the account email, over SMTP), socket (price_alert_triggered to the user room) and/or ' +
      'webhook (price_alert_triggered to your webhook endpoints that take it)',
    example: ['email', 'socket'],
  })
  @IsArray({ message: 'channels must be an array' })
  @ArrayMinSize(1, { message: 'channels must name at least one channel' })
  @ArrayMaxSize(ALERT_CHANNELS.length)
  @ArrayUnique({ message: 'channels must not repeat a channel' })
  @IsIn(ALERT_CHANNELS, { each: true, message: `channels must each be one of ${ALERT_CHANNELS.join(', ')}` })
  channels: AlertChannel[];
}

export class UpdateAlertDto {
  @ApiPropertyOptional({ description: 'New threshold (the rule starts a new episode)', example: '52000' })
  @IsOptionalNotNull()
  @IsDecimalString()
  threshold?: string;

  @ApiPropertyOptional({
    description: 'false pauses the rule; true resumes it (a new episode)',
    example: false,
  })
  @IsOptionalNotNull()
  @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;

  @ApiPropertyOptional({ example: 600 })
  @IsOptionalNotNull()
  @IsInt({ message: 'cooldown_seconds must be a whole number' })
  @Min(0, { message: 'cooldown_seconds must be at least 0' })
  @Max(MAX_COOLDOWN_SECONDS, { message: `cooldown_seconds must be at most ${MAX_COOLDOWN_SECONDS}` })
  cooldown_seconds?: number;
}

export class AlertResponseDto {
  @ApiProperty({ example: '0b6c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f' })
  id: string;

  @ApiProperty({ example: 'BTCUSDT' })
  symbol: string;

  @ApiProperty({ enum: ALERT_CONDITIONS, example: 'above' })
  condition: AlertCondition;

  @ApiProperty({ description: 'Exact decimal string', example: '50000.5' })
  threshold: string;

  @ApiProperty({ nullable: true, type: Number, example: null })
  window_seconds: number | null;

  @ApiProperty({ example: 600 })
  cooldown_seconds: number;

  @ApiProperty({ enum: ALERT_CHANNELS, isArray: true, example: ['email', 'socket'] })
  channels: AlertChannel[];

  @ApiProperty({ example: true })
  active: boolean;

  @ApiProperty({
    description:
      'true: the next move into the condition fires; false: fired (or consumed), waiting for the price to leave',
    example: true,
  })
  armed: boolean;

  @ApiProperty({ nullable: true, type: String, example: '2026-11-30T12:00:00.000Z' })
  last_triggered_at: string | null;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  updated_at: string;
}

export interface AlertRow {
  id: string;
  user_id: string;
  symbol: string;
  condition: AlertCondition;
  threshold: string;
  window_seconds: number | null;
  cooldown_seconds: number;
  channels: AlertChannel[];
  active: boolean;
  armed: boolean;
  last_triggered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const toAlertResponse = (a: AlertRow): AlertResponseDto => ({
  id: a.id,
  symbol: a.symbol,
  condition: a.condition,
  threshold: normalizeDecimal(a.threshold),
  window_seconds: a.window_seconds,
  cooldown_seconds: a.cooldown_seconds,
  channels: a.channels,
  active: a.active,
  armed: a.armed,
  last_triggered_at: a.last_triggered_at?.toISOString() ?? null,
  created_at: a.created_at.toISOString(),
  updated_at: a.updated_at.toISOString(),
});

export class HistoryQueryDto extends IdCursorPageQueryDto {}

export class DeliveryResponseDto {
  @ApiProperty({ example: '6a1f2e3d-4c5b-4a69-8877-665544332211' })
  id: string;

  @ApiProperty({ enum: ALERT_CHANNELS, example: 'email' })
  channel: AlertChannel;

  @ApiProperty({
    enum: ['pending', 'sent', 'failed'],
    description:
      'sent only once the SMTP server accepted it (email), it is in the event log (socket), or an endpoint answered 2xx (webhook)',
    example: 'sent',
  })
  status: 'pending' | 'sent' | 'failed';

  @ApiProperty({ example: 2 })
  attempts: number;

  @ApiProperty({ nullable: true, type: String, example: 'connect ECONNREFUSED 127.0.0.1:587' })
  last_error: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the next retry is due; null when sent or given up',
    example: null,
  })
  next_attempt_at: string | null;

  @ApiProperty({ nullable: true, type: String, example: '2026-11-30T12:00:03.000Z' })
  sent_at: string | null;

  @ApiProperty({ description: 'Rules of the same message (coalesced)', example: 1 })
  firings_in_message: number;
}

export class FiringResponseDto {
  @ApiProperty({ example: '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170' })
  id: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null once the rule was deleted',
    example: '0b6c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f',
  })
  alert_id: string | null;

  @ApiProperty({ example: 'BTCUSDT' })
  symbol: string;

  @ApiProperty({ enum: ALERT_CONDITIONS, example: 'above' })
  condition: AlertCondition;

  @ApiProperty({ example: '50000.5' })
  threshold: string;

  @ApiProperty({ nullable: true, type: Number, example: null })
  window_seconds: number | null;

  @ApiProperty({ description: 'The price that fired it, exact', example: '50001.2' })
  price: string;

  @ApiProperty({ description: 'Exchange time of that price', example: '2026-11-30T12:00:00.000Z' })
  price_time: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.120Z' })
  triggered_at: string;

  @ApiProperty({ type: [DeliveryResponseDto] })
  deliveries: DeliveryResponseDto[];
}

export class HistoryPageDto {
  @ApiProperty({ type: [FiringResponseDto], description: 'Newest first' })
  items: FiringResponseDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as cursor for the next page; null on the last',
  })
  next_cursor: string | null;
}

export class PriceResponseDto {
  @ApiProperty({ example: 'BTCUSDT' })
  symbol: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Latest price, exact, as the exchange sent it',
    example: '43210.12000000',
  })
  price: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Exchange time of that price',
    example: '2026-11-30T12:00:00.000Z',
  })
  exchange_time: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When this service received it',
    example: '2026-11-30T12:00:00.080Z',
  })
  received_at: string | null;

  @ApiProperty({
    description: 'No price yet, or older than PRICE_STALE_SECONDS: no alert fires on it',
    example: false,
  })
  stale: boolean;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Percent change from the 24 h open to that price, truncated to 2 decimals (as the price stream sends it); null without a price or when the feed gives no open',
    example: '-1.25',
  })
  change_24h_percent: string | null;
}

export class SymbolParamDto {
  @ApiProperty({ description: 'A feed symbol (ALERT_SYMBOLS), any case', example: 'BTCUSDT' })
  @Matches(/^[A-Za-z0-9]{2,20}$/, { message: 'symbol must be 2 to 20 letters or digits, e.g. BTCUSDT' })
  symbol: string;
}

export class PricePointDto {
  @ApiProperty({ example: 'BTCUSDT' })
  symbol: string;

  @ApiProperty({ description: 'Exact, as the exchange sent it', example: '43210.12000000' })
  price: string;

  @ApiProperty({ description: 'Exchange time of the price', example: '2026-11-30T12:00:00.000Z' })
  exchange_time: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Percent change over 24 h, truncated to 2 decimals, when the feed gives it',
    example: '-1.25',
  })
  change_24h_percent: string | null;
}

export class RecentPricesDto {
  @ApiProperty({ example: 'BTCUSDT' })
  symbol: string;

  @ApiProperty({
    description: 'At most one point per this many ms (PRICE_STREAM_INTERVAL_MS)',
    example: 1000,
  })
  interval_ms: number;

  @ApiProperty({ type: [PricePointDto], description: 'Oldest first; the last 900 points at most' })
  points: PricePointDto[];
}
