import { BadRequestException, ConflictException, Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user.js';
import { findOrFail } from '../common/find-or-fail.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { AlertsEngine } from './alerts-engine.js';
import { AlertsRepository, type FiringRow } from './alerts.repository.js';
import { isUnsignedDecimal, normalizeDecimal, SCALE, toScaled } from './decimal.js';
import {
  type AlertResponseDto,
  type CreateAlertDto,
  type FiringResponseDto,
  type HistoryPageDto,
  type HistoryQueryDto,
  toAlertResponse,
  type UpdateAlertDto,
} from './dto/alert.dto.js';
import { type AlertCondition, initialArmed } from './evaluator/rule.js';

const DEFAULT_PAGE = 50;
const MINUS_100 = -100n * SCALE;

const badRequest = (message: string) =>
  new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });

@Injectable()
export class AlertsService {
  constructor(
    private readonly repository: AlertsRepository,
    private readonly engine: AlertsEngine,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async create(caller: AuthUser, dto: CreateAlertDto): Promise<AlertResponseDto> {
    if (!this.config.alerts.symbols.includes(dto.symbol)) {
      throw badRequest(`symbol must be one of the feed's symbols: ${this.config.alerts.symbols.join(', ')}`);
    }
    const threshold = this.checkThreshold(dto.condition, dto.threshold);
    if (dto.condition === 'pct_change' && dto.window_seconds === undefined) {
      throw badRequest('window_seconds is required for pct_change');
    }
    if (dto.condition !== 'pct_change' && dto.window_seconds !== undefined) {
      throw badRequest('window_seconds is only for pct_change');
    }
    const limit = this.config.limits.alertsPerUser;
    const row = await this.repository.insert(
      {
        userId: caller.id,
        symbol: dto.symbol,
        condition: dto.condition,
        threshold,
        windowSeconds: dto.window_seconds ?? null,
        cooldownSeconds: dto.cooldown_seconds ?? this.config.alerts.defaultCooldownSeconds,
        channels: dto.channels,
        armed: initialArmed(dto.condition),
      },
      limit,
    );
    if (!row) {
      throw new ConflictException(
        `you have ${limit} alerts, the most allowed (MAX_ALERTS_PER_USER): delete one first`,
      );
    }
    await this.engine.track(row);
    return toAlertResponse(row);
  }

  async list(caller: AuthUser): Promise<AlertResponseDto[]> {
    return (await this.repository.listForUser(caller.id)).map(toAlertResponse);
  }

  async get(caller: AuthUser, id: string): Promise<AlertResponseDto> {
    return toAlertResponse(findOrFail(await this.repository.findOwned(caller.id, id), 'alert'));
  }

  /** A new threshold or a resume starts a new episode (the rule's initial armed state). */
  async update(caller: AuthUser, id: string, dto: UpdateAlertDto): Promise<AlertResponseDto> {
    const current = findOrFail(await this.repository.findOwned(caller.id, id), 'alert');
    const threshold =
      dto.threshold === undefined ? undefined : this.checkThreshold(current.condition, dto.threshold);
    const thresholdChanged = threshold !== undefined && threshold !== normalizeDecimal(current.threshold);
    const resumed = dto.active === true && !current.active;
    const row = findOrFail(
      await this.repository.updateOwned(caller.id, id, {
        threshold,
        active: dto.active,
        cooldownSeconds: dto.cooldown_seconds,
        armed: thresholdChanged || resumed ? initialArmed(current.condition) : undefined,
      }),
      'alert',
    );
    if (thresholdChanged || (dto.active !== undefined && dto.active !== current.active))
      await this.engine.track(row);
    else if (dto.cooldown_seconds !== undefined) await this.engine.setCooldown(id, dto.cooldown_seconds);
    return toAlertResponse(row);
  }

  async delete(caller: AuthUser, id: string): Promise<void> {
    findOrFail((await this.repository.deleteOwned(caller.id, id)) ? true : null, 'alert');
    await this.engine.untrack(id);
  }

  async history(caller: AuthUser, query: HistoryQueryDto, alertId?: string): Promise<HistoryPageDto> {
    if (alertId !== undefined) findOrFail(await this.repository.findOwned(caller.id, alertId), 'alert');
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await this.repository.historyPage({
      userId: caller.id,
      alertId,
      limit,
      afterSeq: query.cursor,
    });
    const last = rows[rows.length - 1];
    return {
      items: rows.map(toFiringResponse),
      next_cursor: rows.length === limit && last ? last.seq : null,
    };
  }

  /** Thresholds: a price > 0 for above/below/crosses_*, a signed percent ≠ 0 and > −100 for pct_change. */
  private checkThreshold(condition: AlertCondition, text: string): string {
    if (condition === 'pct_change') {
      const value = toScaled(text);
      if (value === 0n || value <= MINUS_100) {
        throw badRequest('threshold must be a percent other than 0 and above -100 for pct_change');
      }
    } else if (!isUnsignedDecimal(text) || toScaled(text) === 0n) {
      throw badRequest(`threshold must be a price greater than 0 for ${condition}`);
    }
    return normalizeDecimal(text);
  }
}

const iso = (value: string | Date | null): string | null =>
  value === null ? null : new Date(value).toISOString();

const toFiringResponse = (f: FiringRow): FiringResponseDto => ({
  id: f.id,
  alert_id: f.alert_id,
  symbol: f.symbol,
  condition: f.condition,
  threshold: normalizeDecimal(f.threshold),
  window_seconds: f.window_seconds,
  price: normalizeDecimal(f.price),
  price_time: f.price_time.toISOString(),
  triggered_at: f.triggered_at.toISOString(),
  deliveries: (f.deliveries ?? []).map((d) => ({
    id: d.id,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    last_error: d.last_error,
    next_attempt_at: iso(d.next_attempt_at),
    sent_at: iso(d.sent_at),
    firings_in_message: Number(d.firings_in_message),
  })),
});
