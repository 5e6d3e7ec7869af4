import { Webhook } from 'standardwebhooks';

import { generateSecret, messageIdOf, webhookHeaders, webhookId } from './webhook-signature.js';

describe('webhook signatures', () => {
  const body = JSON.stringify({
    type: 'deposit_detected',
    timestamp: '2026-12-05T08:00:00.000Z',
    data: { a: 1 },
  });
  const messageId = '6a0f3c1e-7d4a-4e0b-8f55-1a2b3c4d5e6f';

  it('verifies with the standardwebhooks library', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = webhookHeaders([secret], messageId, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every listed secret, so the old and the new one both verify during a rotation', () => {
    const [old, fresh] = [generateSecret(), generateSecret()];
    const headers = webhookHeaders([fresh, old], messageId, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(fresh).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('fails verification when the body was changed', () => {
    const secret = generateSecret();
    const headers = webhookHeaders([secret], messageId, body);
    expect(() => new Webhook(secret).verify(body.replace('1', '2'), headers)).toThrow();
  });

  it('keeps one webhook-id per message and maps it back', () => {
    expect(webhookId(messageId)).toBe('msg_6a0f3c1e7d4a4e0b8f551a2b3c4d5e6f');
    expect(messageIdOf(webhookId(messageId))).toBe(messageId);
    expect(messageIdOf('msg_nope')).toBeUndefined();
  });
});
