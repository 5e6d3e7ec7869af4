import { type DomainEventType, SOCKET_EVENT_NAMES } from '../events/domain-events.js';

/** The event types an endpoint can subscribe to: the Socket.IO event names. */
export const WEBHOOK_EVENT_TYPES = [
  'deposit_detected',
  'confirmation_update',
  'deposit_completed',
  'deposit_orphaned',
  'price_alert_triggered',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What POST /webhooks/{id}/test sends (not an event: no event_id, not subscribable). */
export const TEST_EVENT_TYPE = 'webhook_test';

/**
 * The event_log room of the `price_alert_triggered` events written for the webhook channel of
 * alerts. Their own room, not the user's socket room: a rule without the socket channel must not
 * reach the user's sockets.
 */
export const webhookUserRoom = (userId: string): string => `webhooks:user:${userId}`;

/** [domain event type, webhook event type] pairs, for the fan-out statement. */
export const EVENT_TYPE_PAIRS = (Object.keys(SOCKET_EVENT_NAMES) as DomainEventType[]).map(
  (type) => [type, SOCKET_EVENT_NAMES[type]] as const,
);
