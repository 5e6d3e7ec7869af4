import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { EVENT_TYPE_PAIRS, TEST_EVENT_TYPE, webhookUserRoom } from './webhook-events.js';

export interface EndpointRow {
  id: string;
  user_id: string;
  url: string;
  description: string | null;
  event_types: string[] | null;
  wallet_ids: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A message claimed for one attempt, with what the attempt needs. */
export interface ClaimedMessage {
  seq: string;
  id: string;
  endpoint_id: string;
  event_type: string;
  body: string;
  alert_delivery_id: string | null;
  schedule_attempts: number;
  url: string;
  secrets: string[];
}

export interface AttemptOutcome {
  seq: string;
  attemptedAt: Date;
  statusCode: number | undefined;
  latencyMs: number;
  error: string | undefined;
  /** Seconds until the retry, or undefined when the attempt succeeded or was the schedule's last. */
  retryInSeconds: number | undefined;
  /** The alert delivery the message reports to (price_alert_triggered of the webhook channel). */
  alertDeliveryId: string | null;
}

const WEBHOOK_ROOM_PREFIX = webhookUserRoom('');

const ENDPOINT_COLUMNS = `id, user_id, url, description, event_types, wallet_ids, enabled, disabled_reason, secret,
  previous_secret, previous_secret_expires_at, created_at, updated_at`;

/**
 * The body of an event's message (Standard Webhooks' {type, timestamp, data}; `data` is what the
 * Socket.IO event carries plus its `event_id`), from event_log columns aliased `e`, and `$name`.
 */
const bodyOf = (name: string): string => `json_build_object(
  'type', ${name},
  'timestamp', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'data', jsonb_build_object('event_id', e.id) || e.payload::jsonb)::text`;

/**
 * The endpoints (`ep`) event `e` (named `n.name`) goes to: a deposit event through the wallets of
 * its room's address (each owner's endpoints, within their wallet filter), a webhook-channel alert
 * event through its user; then the endpoint's type filter. Wallets first: one index lookup per event,
 * not one per (event, endpoint).
 */
const endpointsOf = (endpointFilter: string): string => `
  CROSS JOIN LATERAL (
    SELECT ep.id, ep.event_types FROM wallets w JOIN webhook_endpoints ep ON ep.user_id = w.user_id
     WHERE w.address = e.room AND ${endpointFilter}
       AND (ep.wallet_ids IS NULL OR w.id = ANY(ep.wallet_ids))
    UNION ALL
    SELECT ep.id, ep.event_types FROM webhook_endpoints ep
     WHERE e.room LIKE $5 || '%' AND ${endpointFilter}
       AND ep.user_id = (CASE WHEN e.room LIKE $5 || '%' THEN substr(e.room, length($5) + 1)::uuid END)
  ) ep
  WHERE ep.event_types IS NULL OR n.name = ANY(ep.event_types)`;

/**
 * The id (webhook-id `msg_` + its hex) of the message of event `event` for endpoint `endpoint`:
 * derived from the pair, not drawn at random, so a message created again for the same event (a
 * replay after the retention deleted the first one) has the same webhook-id, and receivers that
 * deduplicate on it still can.
 */
const eventMessageId = (endpoint: string, event: string): string =>
  `md5(${endpoint}::text || ':' || ${event}::text)::uuid`;

/**
 * (Re)starts the schedule of the messages of CTE `messages` (seq, endpoint_id): due now, attempt
 * count reset; a message in flight (its lease not over) is left to that attempt.
 */
const REQUEUE = `INSERT INTO webhook_queue AS q (message_seq, endpoint_id, next_attempt_at)
  SELECT seq, endpoint_id, now() FROM messages
  ON CONFLICT (message_seq) DO UPDATE
     SET next_attempt_at = now(), schedule_attempts = 0, schedule_started_at = now(), locked_until = NULL
   WHERE q.locked_until IS NULL OR q.locked_until <= now()`;

export interface DeliveryRow {
  seq: string;
  id: string;
  event_id: string | null;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  next_attempt_at: Date | null;
  body: string;
  created_at: Date;
  attempts: { attempted_at: string; status_code: number | null; latency_ms: number; error: string | null }[];
}

/**
 * The SQL of webhook delivery: fan-out from event_log, claiming, recording attempts.
 *
 * Invariant (at least once): a message exists for every (enabled endpoint, matching event) with an
 * event id up to `webhook_cursor.last_event_id`, because the messages and the cursor move commit
 * together; event ids are assigned in commit order (EventLogRepository), so nothing committed later
 * can appear below the cursor. A message is `pending` exactly while it has a `webhook_queue` row;
 * the row goes only with the attempt that recorded its outcome. A claim only moves the row's
 * `next_attempt_at` to the end of a lease, so a process that dies mid-send leaves the message due
 * again when the lease ends.
 */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Turns the events after the cursor (up to `limit`) into messages and moves the cursor past them,
   * in one transaction. The cursor row lock serialises processes (a second one waits, then reads on
   * from where the first left). Returns how many events were read.
   */
  async fanOut(limit: number): Promise<{ events: number; messages: number }> {
    return this.dataSource.transaction(async (manager) => {
      const [cursor] = await manager.query<{ last_event_id: string }[]>(
        `SELECT last_event_id FROM webhook_cursor FOR UPDATE`,
      );
      const [result] = await manager.query<{ events: number; messages: number; last: string | null }[]>(
        `WITH e AS (
           SELECT id, type, room, payload, created_at FROM event_log WHERE id > $1 ORDER BY id LIMIT $2
         ), inserted AS (
           INSERT INTO webhook_messages (id, endpoint_id, event_id, event_type, body, alert_delivery_id)
           SELECT ${eventMessageId('ep.id', 'e.id')}, ep.id, e.id, n.name, ${bodyOf('n.name')},
                  CASE WHEN e.room LIKE $5 || '%' THEN (e.payload->>'delivery_id')::uuid END
             FROM e
             JOIN unnest($3::text[], $4::text[]) AS n(type, name) ON n.type = e.type
             ${endpointsOf('ep.enabled')}
            ORDER BY e.id, ep.id
           ON CONFLICT (endpoint_id, event_id) DO NOTHING
           RETURNING seq, endpoint_id
         ), queued AS (
           INSERT INTO webhook_queue (message_seq, endpoint_id, next_attempt_at)
           SELECT seq, endpoint_id, now() FROM inserted
         ), moved AS (
           UPDATE webhook_cursor SET last_event_id = (SELECT max(id) FROM e)
            WHERE EXISTS (SELECT 1 FROM e) RETURNING last_event_id
         )
         SELECT (SELECT count(*) FROM e)::int AS events, (SELECT count(*) FROM inserted)::int AS messages,
                (SELECT max(id) FROM e)::text AS last`,
        [
          cursor.last_event_id,
          limit,
          EVENT_TYPE_PAIRS.map((p) => p[0]),
          EVENT_TYPE_PAIRS.map((p) => p[1]),
          WEBHOOK_ROOM_PREFIX,
        ],
      );
      if (result.events > 0) {
        // A webhook-channel alert delivery that no enabled endpoint takes is failed at once (not
        // left pending forever), with the reason the user can act on.
        await manager.query(
          `UPDATE alert_deliveries d
              SET status = 'failed', last_error = 'no enabled webhook endpoint takes price_alert_triggered',
                  updated_at = now()
             FROM event_log e
            WHERE e.id > $1 AND e.id <= $2 AND e.room LIKE $3 || '%'
              AND d.id = (e.payload->>'delivery_id')::uuid AND d.status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM webhook_messages m WHERE m.alert_delivery_id = d.id)`,
          [cursor.last_event_id, result.last, WEBHOOK_ROOM_PREFIX],
        );
      }
      return { events: result.events, messages: result.messages };
    });
  }

  /**
   * Claims up to `limit` due messages for one attempt each, at most `perEndpoint` in flight per
   * endpoint (counted across processes: `locked_until` in the future), so a slow receiver holds
   * only its own slots. SKIP LOCKED: two processes never claim the same message.
   */
  async claim(limit: number, perEndpoint: number, leaseSeconds: number): Promise<ClaimedMessage[]> {
    return this.dataSource.query(
      `WITH in_flight AS (
         SELECT endpoint_id, count(*)::int AS n FROM webhook_queue
          WHERE locked_until > now() GROUP BY endpoint_id
       ), picked AS (
         SELECT q.message_seq
           FROM webhook_endpoints ep
           LEFT JOIN in_flight f ON f.endpoint_id = ep.id
          CROSS JOIN LATERAL (
            SELECT message_seq FROM webhook_queue q
             WHERE q.endpoint_id = ep.id AND q.next_attempt_at <= now()
             ORDER BY q.next_attempt_at
             LIMIT greatest($2 - coalesce(f.n, 0), 0)
             FOR UPDATE SKIP LOCKED) q
          WHERE ep.enabled
          LIMIT $1
       ), claimed AS (
         UPDATE webhook_queue q
            SET locked_until = now() + make_interval(secs => $3), next_attempt_at = now() + make_interval(secs => $3)
           FROM picked p WHERE q.message_seq = p.message_seq
         RETURNING q.message_seq, q.schedule_attempts
       )
       SELECT m.seq::text AS seq, m.id, m.endpoint_id, m.event_type, m.body, m.alert_delivery_id,
              c.schedule_attempts, ep.url,
              CASE WHEN ep.previous_secret IS NOT NULL AND ep.previous_secret_expires_at > now()
                   THEN ARRAY[ep.secret, ep.previous_secret] ELSE ARRAY[ep.secret] END AS secrets
         FROM claimed c
         JOIN webhook_messages m ON m.seq = c.message_seq
         JOIN webhook_endpoints ep ON ep.id = m.endpoint_id`,
      [limit, perEndpoint, leaseSeconds],
    );
  }

  /**
   * Records a batch of attempts in one statement: the attempt rows, each message's next state, the
   * alert deliveries they report to, and disables an endpoint whose message failed its whole
   * schedule with no success from that endpoint meanwhile.
   */
  async record(outcomes: readonly AttemptOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.dataSource.query(
      `WITH r AS (
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[], $5::text[], $6::float8[],
                              $7::uuid[])
                AS r(seq, attempted_at, status_code, latency_ms, error, retry_s, alert_delivery_id)
       ), attempts AS (
         INSERT INTO webhook_attempts (message_seq, attempted_at, status_code, latency_ms, error)
         SELECT seq, attempted_at, status_code, latency_ms, error FROM r ORDER BY seq
       ), retried AS (
         UPDATE webhook_queue q
            SET next_attempt_at = now() + make_interval(secs => r.retry_s), locked_until = NULL,
                schedule_attempts = q.schedule_attempts + 1
           FROM r WHERE q.message_seq = r.seq AND r.error IS NOT NULL AND r.retry_s IS NOT NULL
       ), finished AS (
         DELETE FROM webhook_queue q USING r
          WHERE q.message_seq = r.seq AND (r.error IS NULL OR r.retry_s IS NULL)
         RETURNING q.message_seq, q.schedule_attempts + 1 AS schedule_attempts, q.schedule_started_at
       ), messages AS (
         UPDATE webhook_messages m
            SET status = CASE WHEN r.error IS NULL THEN 'succeeded' ELSE 'failed' END, updated_at = now()
           FROM finished f JOIN r ON r.seq = f.message_seq
          WHERE m.seq = f.message_seq
         RETURNING m.seq, m.id, m.endpoint_id, m.status, f.schedule_attempts, f.schedule_started_at,
                   r.error, r.attempted_at
       ), alerts AS (
         UPDATE alert_deliveries d
            SET status = CASE WHEN d.status = 'sent' OR a.error IS NULL THEN 'sent' ELSE 'failed' END,
                sent_at = CASE WHEN d.status = 'sent' OR a.error IS NULL THEN coalesce(d.sent_at, now()) END,
                attempts = d.attempts + 1, last_error = coalesce(a.error, d.last_error),
                next_attempt_at = NULL, updated_at = now()
           FROM r a WHERE d.id = a.alert_delivery_id
       )
       UPDATE webhook_endpoints ep
          SET enabled = false, updated_at = now(),
              disabled_reason = format('every attempt failed for %s: message %s, %s attempts from %s to %s; last error: %s',
                  to_char(m.attempted_at - m.schedule_started_at, 'DD"d "HH24"h "MI"m "SS"s"'),
                  'msg_' || replace(m.id::text, '-', ''), m.schedule_attempts,
                  to_char(m.schedule_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  to_char(m.attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), m.error)
         FROM messages m
        WHERE m.status = 'failed' AND ep.id = m.endpoint_id AND ep.enabled
          AND NOT EXISTS (
            SELECT 1 FROM webhook_messages o JOIN webhook_attempts a ON a.message_seq = o.seq
             WHERE o.endpoint_id = ep.id AND a.attempted_at >= m.schedule_started_at
               AND a.status_code BETWEEN 200 AND 299 AND a.error IS NULL)
          AND NOT EXISTS (SELECT 1 FROM r WHERE r.error IS NULL AND r.seq IN
                            (SELECT seq FROM webhook_messages WHERE endpoint_id = ep.id))`,
      [
        outcomes.map((o) => o.seq),
        outcomes.map((o) => o.attemptedAt.toISOString()),
        outcomes.map((o) => o.statusCode ?? null),
        outcomes.map((o) => o.latencyMs),
        outcomes.map((o) => o.error ?? null),
        outcomes.map((o) => o.retryInSeconds ?? null),
        outcomes.map((o) => o.alertDeliveryId),
      ],
    );
  }

  /**
   * Re-queues the endpoint's messages of events after `sinceEventId`, up to the fan-out cursor
   * (later ones are the fan-out's), at most `limit` events: missing messages are created, existing
   * ones start a new schedule with their webhook-id unchanged (one in flight is left alone).
   */
  async replay(
    endpoint: EndpointRow,
    sinceEventId: number,
    limit: number,
  ): Promise<{ queued: number; events: number; lastEventId: number | null; truncated: boolean }> {
    const [row] = await this.dataSource.query<
      { queued: number; events: number; last: string | null; truncated: boolean }[]
    >(
      `WITH e AS (
         SELECT id, type, room, payload, created_at FROM event_log
          WHERE id > $1 AND id <= (SELECT last_event_id FROM webhook_cursor) ORDER BY id LIMIT $2
       ), messages AS (
         INSERT INTO webhook_messages AS m (id, endpoint_id, event_id, event_type, body, alert_delivery_id)
         SELECT ${eventMessageId('ep.id', 'e.id')}, ep.id, e.id, n.name, ${bodyOf('n.name')},
                CASE WHEN e.room LIKE $5 || '%' THEN (e.payload->>'delivery_id')::uuid END
           FROM e
           JOIN unnest($3::text[], $4::text[]) AS n(type, name) ON n.type = e.type
           ${endpointsOf('ep.id = $6')}
          ORDER BY e.id
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'pending', updated_at = now()
         RETURNING seq, endpoint_id
       ), queued AS (
         ${REQUEUE}
       )
       SELECT (SELECT count(*) FROM messages)::int AS queued, (SELECT count(*) FROM e)::int AS events,
              (SELECT max(id) FROM e)::text AS last,
              (SELECT pruned_through > $1 FROM event_log_horizon) AS truncated`,
      [
        sinceEventId,
        limit,
        EVENT_TYPE_PAIRS.map((p) => p[0]),
        EVENT_TYPE_PAIRS.map((p) => p[1]),
        WEBHOOK_ROOM_PREFIX,
        endpoint.id,
      ],
    );
    return {
      queued: row.queued,
      events: row.events,
      lastEventId: row.last === null ? null : Number(row.last),
      truncated: row.truncated,
    };
  }

  /** Starts a new schedule for one message (same webhook-id); false when it is not this endpoint's. */
  async redeliver(endpointId: string, messageId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH messages AS (
         UPDATE webhook_messages SET status = 'pending', updated_at = now()
          WHERE endpoint_id = $1 AND id = $2
         RETURNING seq, endpoint_id
       ), queued AS (
         ${REQUEUE}
       )
       SELECT 1 FROM messages`,
      [endpointId, messageId],
    );
    return rows.length > 0;
  }

  async queueTest(endpointId: string, body: string): Promise<string> {
    const [row] = await this.dataSource.query<{ id: string }[]>(
      `WITH m AS (
         INSERT INTO webhook_messages (endpoint_id, event_type, body) VALUES ($1, $2, $3)
         RETURNING seq, id, endpoint_id
       ), q AS (
         INSERT INTO webhook_queue (message_seq, endpoint_id, next_attempt_at) SELECT seq, endpoint_id, now() FROM m
       )
       SELECT id FROM m`,
      [endpointId, TEST_EVENT_TYPE, body],
    );
    return row.id;
  }

  /**
   * Deletes up to `limit` messages that finished (succeeded or failed) more than `days` days ago,
   * oldest first, with their attempts (ON DELETE CASCADE); returns how many. Pending messages are
   * never deleted, whatever their age. Rows another transaction holds (a redelivery making one
   * pending again) are skipped, and the status and age are checked again under the lock, so a
   * message requeued meanwhile stays. Read through `webhook_messages_created_idx`: a message that
   * finished before the cutoff was created before it, so only messages created before the cutoff
   * are read (those still pending or redelivered since, and the ones deleted), never the recent
   * ones.
   */
  async deleteFinished(days: number, limit: number): Promise<number> {
    const [row] = await this.dataSource.query<{ deleted: number }[]>(
      `WITH gone AS (
         DELETE FROM webhook_messages m
          WHERE m.seq IN (SELECT seq FROM webhook_messages
                           WHERE created_at < now() - make_interval(days => $1)
                             AND updated_at < now() - make_interval(days => $1) AND status <> 'pending'
                           ORDER BY created_at LIMIT $2
                             FOR UPDATE SKIP LOCKED)
         RETURNING 1
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [days, limit],
    );
    return row.deleted;
  }

  async deliveries(endpointId: string, limit: number, beforeSeq: string | undefined): Promise<DeliveryRow[]> {
    return this.dataSource.query(
      `SELECT m.seq::text AS seq, m.id, m.event_id::text AS event_id, m.event_type, m.status,
              q.next_attempt_at, m.body, m.created_at,
              coalesce((SELECT json_agg(json_build_object(
                          'attempted_at', a.attempted_at, 'status_code', a.status_code,
                          'latency_ms', a.latency_ms, 'error', a.error) ORDER BY a.id)
                          FROM webhook_attempts a WHERE a.message_seq = m.seq), '[]') AS attempts
         FROM webhook_messages m
         LEFT JOIN webhook_queue q ON q.message_seq = m.seq
        WHERE m.endpoint_id = $1 AND ($3::bigint IS NULL OR m.seq < $3)
        ORDER BY m.seq DESC LIMIT $2`,
      [endpointId, limit, beforeSeq ?? null],
    );
  }

  async findOwned(userId: string, id: string): Promise<EndpointRow | undefined> {
    const [row] = await this.dataSource.query<EndpointRow[]>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return row;
  }

  async list(userId: string): Promise<EndpointRow[]> {
    return this.dataSource.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
  }

  /** The wallet ids among `ids` that are not the user's. */
  async foreignWallets(userId: string, ids: readonly string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT i.id FROM unnest($2::uuid[]) AS i(id)
        WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = i.id AND w.user_id = $1)`,
      [userId, ids],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Inserts an endpoint unless the user already has `max`; undefined when at the limit. The user's
   * row is locked meanwhile, so two concurrent creations cannot both pass the count.
   */
  async create(
    endpoint: Pick<EndpointRow, 'user_id' | 'url' | 'description' | 'event_types' | 'wallet_ids' | 'secret'>,
    max: number,
  ): Promise<EndpointRow | undefined> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [endpoint.user_id]);
      const [{ n }] = await manager.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_endpoints WHERE user_id = $1`,
        [endpoint.user_id],
      );
      if (n >= max) return undefined;
      const [row] = await manager.query<EndpointRow[]>(
        `INSERT INTO webhook_endpoints (user_id, url, description, event_types, wallet_ids, secret)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
        [
          endpoint.user_id,
          endpoint.url,
          endpoint.description,
          endpoint.event_types,
          endpoint.wallet_ids,
          endpoint.secret,
        ],
      );
      return row;
    });
  }

  async update(
    id: string,
    changes: Partial<Pick<EndpointRow, 'url' | 'description' | 'event_types' | 'wallet_ids' | 'enabled'>>,
  ): Promise<EndpointRow> {
    const [row] = await this.dataSource.query<EndpointRow[]>(
      `WITH u AS (UPDATE webhook_endpoints SET
          url = CASE WHEN $2::boolean THEN $3 ELSE url END,
          description = CASE WHEN $4::boolean THEN $5 ELSE description END,
          event_types = CASE WHEN $6::boolean THEN $7::text[] ELSE event_types END,
          wallet_ids = CASE WHEN $8::boolean THEN $9::uuid[] ELSE wallet_ids END,
          enabled = coalesce($10::boolean, enabled),
          disabled_reason = CASE WHEN $10 THEN NULL ELSE disabled_reason END,
          updated_at = now()
        WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS})
       SELECT * FROM u`,
      [
        id,
        changes.url !== undefined,
        changes.url ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.event_types !== undefined,
        changes.event_types ?? null,
        changes.wallet_ids !== undefined,
        changes.wallet_ids ?? null,
        changes.enabled ?? null,
      ],
    );
    return row;
  }

  async rotate(id: string, secret: string, overlapSeconds: number): Promise<EndpointRow> {
    const [row] = await this.dataSource.query<EndpointRow[]>(
      `WITH u AS (UPDATE webhook_endpoints
          SET previous_secret = secret, secret = $2, updated_at = now(),
              previous_secret_expires_at = now() + make_interval(secs => $3)
        WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS})
       SELECT * FROM u`,
      [id, secret, overlapSeconds],
    );
    return row;
  }

  async delete(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [id]);
  }
}
