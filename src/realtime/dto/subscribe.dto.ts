/** `subscribe` / `unsubscribe` messages (snake_case, as sent by clients) and their acknowledgement. */
export interface SubscribeMessage {
  wallet_address: string;
  /** Replay every event of the wallet after this event_id before going live. */
  since_event_id?: number;
}

/**
 * With `since_event_id`: `replayed` events were sent first; `truncated` when the event log's
 * retention had deleted some of what followed it (refetch over REST).
 */
export type Ack = { ok: true; replayed?: number; truncated?: boolean } | { ok: false; error: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A non-negative whole event id, as a number or a decimal string (e.g. from a URL query). */
export function parseEventId(value: unknown): Parsed<number | undefined> {
  if (value === undefined || value === null || value === '') return { ok: true, value: undefined };
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    return { ok: false, error: 'since_event_id must be a non-negative whole number' };
  }
  return { ok: true, value: id };
}

export function parseSubscribe(body: unknown): Parsed<SubscribeMessage> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'expected an object { wallet_address, since_event_id? }' };
  }
  const { wallet_address, since_event_id, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return { ok: false, error: `unknown field ${unknown.join(', ')}` };
  if (typeof wallet_address !== 'string') return { ok: false, error: 'wallet_address must be a string' };
  const since = parseEventId(since_event_id);
  if (!since.ok) return since;
  return { ok: true, value: { wallet_address, since_event_id: since.value } };
}
