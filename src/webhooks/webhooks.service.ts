import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user.js';
import { findOrFail } from '../common/find-or-fail.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { checkUrlShape, resolveSafe, UnsafeUrlError } from './address-policy.js';
import {
  type CreateWebhookDto,
  type DeliveriesPageDto,
  type DeliveriesQueryDto,
  type QueuedMessageDto,
  type ReplayDto,
  type ReplayResponseDto,
  type UpdateWebhookDto,
  type WebhookResponseDto,
  type WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { TEST_EVENT_TYPE } from './webhook-events.js';
import { generateSecret, messageIdOf, webhookId } from './webhook-signature.js';
import { type EndpointRow, WebhooksRepository } from './webhooks.repository.js';

/** Events one replay call re-queues at most (the answer says where to continue). */
export const REPLAY_MAX_EVENTS = 10_000;

const NOT_FOUND = 'webhook endpoint';

export const toWebhookResponse = (e: EndpointRow): WebhookResponseDto => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: e.event_types,
  wallet_ids: e.wallet_ids,
  enabled: e.enabled,
  disabled_reason: e.disabled_reason,
  previous_secret_expires_at:
    e.previous_secret_expires_at && e.previous_secret_expires_at > new Date()
      ? e.previous_secret_expires_at.toISOString()
      : null,
  created_at: e.created_at.toISOString(),
  updated_at: e.updated_at.toISOString(),
});

@Injectable()
export class WebhooksService {
  constructor(
    private readonly repository: WebhooksRepository,
    private readonly worker: WebhookDeliveryWorker,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async create(user: AuthUser, dto: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    const url = await this.checkUrl(dto.url);
    if (dto.wallet_ids) await this.checkWallets(user, dto.wallet_ids);
    const secret = generateSecret();
    const max = this.config.webhooks.maxEndpointsPerUser;
    const row = await this.repository.create(
      {
        user_id: user.id,
        url,
        description: dto.description ?? null,
        event_types: dto.event_types ?? null,
        wallet_ids: dto.wallet_ids ?? null,
        secret,
      },
      max,
    );
    if (!row)
      throw new ConflictException(
        `you already have ${max} webhook endpoints, the most allowed (WEBHOOK_MAX_ENDPOINTS_PER_USER)`,
      );
    return { ...toWebhookResponse(row), secret };
  }

  async list(user: AuthUser): Promise<WebhookResponseDto[]> {
    return (await this.repository.list(user.id)).map(toWebhookResponse);
  }

  async get(user: AuthUser, id: string): Promise<WebhookResponseDto> {
    return toWebhookResponse(await this.owned(user, id));
  }

  async update(user: AuthUser, id: string, dto: UpdateWebhookDto): Promise<WebhookResponseDto> {
    await this.owned(user, id);
    const url = dto.url === undefined ? undefined : await this.checkUrl(dto.url);
    if (dto.wallet_ids) await this.checkWallets(user, dto.wallet_ids);
    const row = await this.repository.update(id, {
      url,
      description: dto.description,
      event_types: dto.event_types,
      wallet_ids: dto.wallet_ids,
      enabled: dto.enabled,
    });
    if (dto.enabled) this.worker.kick();
    return toWebhookResponse(row);
  }

  async delete(user: AuthUser, id: string): Promise<void> {
    await this.owned(user, id);
    await this.repository.delete(id);
  }

  async rotateSecret(user: AuthUser, id: string): Promise<WebhookWithSecretDto> {
    await this.owned(user, id);
    const secret = generateSecret();
    const row = await this.repository.rotate(id, secret, this.config.webhooks.secretOverlapSeconds);
    return { ...toWebhookResponse(row), secret };
  }

  async sendTest(user: AuthUser, id: string): Promise<QueuedMessageDto> {
    const endpoint = await this.owned(user, id);
    this.assertEnabled(endpoint);
    const body = JSON.stringify({
      type: TEST_EVENT_TYPE,
      timestamp: new Date().toISOString(),
      data: { webhook_endpoint_id: endpoint.id, message: 'A test message from Crypto Deposit Monitor' },
    });
    const messageId = await this.repository.queueTest(endpoint.id, body);
    this.worker.kick();
    return { message_id: webhookId(messageId) };
  }

  async deliveries(user: AuthUser, id: string, query: DeliveriesQueryDto): Promise<DeliveriesPageDto> {
    await this.owned(user, id);
    const limit = query.limit ?? 50;
    const rows = await this.repository.deliveries(id, limit, query.cursor);
    return {
      items: rows.map((m) => ({
        message_id: webhookId(m.id),
        event_id: m.event_id === null ? null : Number(m.event_id),
        event_type: m.event_type,
        status: m.status,
        next_attempt_at: m.next_attempt_at?.toISOString() ?? null,
        payload: JSON.parse(m.body) as unknown,
        created_at: m.created_at.toISOString(),
        attempts: m.attempts.map((a) => ({
          attempted_at: new Date(a.attempted_at).toISOString(),
          status_code: a.status_code,
          latency_ms: a.latency_ms,
          error: a.error,
        })),
      })),
      next_cursor: rows.length === limit ? rows[rows.length - 1].seq : null,
    };
  }

  async replay(user: AuthUser, id: string, dto: ReplayDto): Promise<ReplayResponseDto> {
    const endpoint = await this.owned(user, id);
    this.assertEnabled(endpoint);
    const result = await this.repository.replay(endpoint, dto.since_event_id, REPLAY_MAX_EVENTS);
    this.worker.kick();
    return {
      queued: result.queued,
      continue_after_event_id: result.events === REPLAY_MAX_EVENTS ? result.lastEventId : null,
      truncated: result.truncated,
    };
  }

  async redeliver(user: AuthUser, id: string, messageId: string): Promise<QueuedMessageDto> {
    const endpoint = await this.owned(user, id);
    this.assertEnabled(endpoint);
    const uuid = messageIdOf(messageId);
    if (uuid === undefined || !(await this.repository.redeliver(endpoint.id, uuid)))
      throw new NotFoundException('message not found');
    this.worker.kick();
    return { message_id: messageId };
  }

  private async owned(user: AuthUser, id: string): Promise<EndpointRow> {
    return findOrFail(await this.repository.findOwned(user.id, id), NOT_FOUND);
  }

  private assertEnabled(endpoint: EndpointRow): void {
    if (!endpoint.enabled)
      throw new ConflictException(
        `the endpoint is disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}: enable it first (PATCH enabled: true)`,
      );
  }

  /** Shape and addresses now (checked again at every send: DNS may change). */
  private async checkUrl(text: string): Promise<string> {
    const policy = {
      httpsOnly: this.config.env === 'production',
      allowPrivate: this.config.webhooks.allowPrivateUrls,
    };
    try {
      const url = checkUrlShape(text, policy);
      await resolveSafe(url.hostname, policy.allowPrivate);
      return url.toString();
    } catch (error) {
      if (error instanceof UnsafeUrlError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  private async checkWallets(user: AuthUser, ids: readonly string[]): Promise<void> {
    const foreign = await this.repository.foreignWallets(user.id, ids);
    if (foreign.length > 0)
      throw new BadRequestException(`wallet_ids: ${foreign.join(', ')} is not one of your wallets`);
  }
}
