import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

import { EventLogRepository } from '../events/event-log.repository.js';
import type { RealtimeAdapter } from './realtime.adapter.js';
import { toSocketEvent } from './socket-event.js';

const REPLAY_PAGE = 1000;

/**
 * Joins a socket to a room, optionally replaying the event log first.
 *
 * Invariant (no gap, no duplicate at the seam): the socket joins the room and its live deliveries
 * are held *before* the log is read, so every event of the room is either in the replay (committed
 * before the read) or reaches the hold (published after commit, hence after the join). Then a
 * floor at the last replayed id drops, for this socket, any event of the room the replay already
 * sent (held, or arriving late); the rest follow the replay in arrival order.
 */
@Injectable()
export class RoomSubscriptions {
  /** The tail of each socket's chain of joins and leaves: they run one at a time, in order. */
  private readonly chains = new WeakMap<Socket, Promise<unknown>>();

  constructor(private readonly eventLog: EventLogRepository) {}

  serially<T>(socket: Socket, work: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(socket) ?? Promise.resolve()).then(work);
    this.chains.set(
      socket,
      run.catch(() => undefined),
    );
    return run;
  }

  /**
   * Resolves to the number of replayed events, and whether the replay is incomplete: the event
   * log's retention (EVENT_LOG_RETENTION_DAYS) has deleted events after `sinceEventId`. The socket is
   * then told so (`replay_truncated`) after the replay, and should refetch the wallet's deposits
   * over REST. The horizon is read after the replay, so a deletion during it is reported too.
   */
  async join(
    socket: Socket,
    room: string,
    sinceEventId?: number,
  ): Promise<{ replayed: number; truncated: boolean }> {
    if (sinceEventId === undefined) {
      await socket.join(room);
      return { replayed: 0, truncated: false };
    }
    const adapter = socket.nsp.adapter as unknown as RealtimeAdapter;
    // Hold first, with no await before the join: nothing can reach the socket unheld from here.
    // Already a member: it would get live what the replay also sends; rejoining under the hold
    // makes what follows `sinceEventId` come exactly once, in order.
    let last = sinceEventId;
    let replayed = 0;
    let truncated = false;
    adapter.hold(socket.id);
    try {
      if (socket.rooms.has(room)) await socket.leave(room);
      await socket.join(room);
      for (;;) {
        const page = await this.eventLog.since([room], last, REPLAY_PAGE);
        for (const event of page) {
          const { name, payload } = toSocketEvent(event);
          socket.emit(name, payload);
          last = event.id;
        }
        replayed += page.length;
        if (page.length < REPLAY_PAGE || !socket.connected) break;
      }
      const horizon = await this.eventLog.horizon();
      if (horizon > sinceEventId) {
        truncated = true;
        socket.emit('replay_truncated', {
          wallet_address: room,
          since_event_id: sinceEventId,
          pruned_through_event_id: horizon,
        });
      }
    } finally {
      adapter.setFloor(socket.id, room, last);
      adapter.release(socket.id);
    }
    return { replayed, truncated };
  }

  async leave(socket: Socket, room: string): Promise<void> {
    await socket.leave(room);
  }
}
