import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, the key is the secret's base64 part after `whsec_`,
 * and `webhook-signature` lists `v1,<base64 HMAC-SHA256>` once per valid secret, space-separated
 * (the old one too while a rotation overlaps).
 */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export const generateSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

const keyOf = (secret: string): Buffer => Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');

export function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): string {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', keyOf(secret)).update(content).digest('base64')}`)
    .join(' ');
}

/** The `webhook-id` of a message: stable for the message's life, across every retry and redelivery. */
export const webhookId = (messageId: string): string => `msg_${messageId.replaceAll('-', '')}`;

/** The message id (uuid) inside a `msg_…` webhook id, or undefined when it is not one of ours. */
export function messageIdOf(webhookIdText: string): string | undefined {
  const match = /^msg_([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/.exec(
    webhookIdText,
  );
  return match ? match.slice(1).join('-') : undefined;
}

export function webhookHeaders(
  secrets: readonly string[],
  messageId: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const id = webhookId(messageId);
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, id, timestamp, body),
  };
}
