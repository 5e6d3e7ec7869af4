import { PostgresAdapter, type PostgresAdapterOptions } from '@socket.io/postgres-adapter';
// The package's index does not re-export its LISTEN/NOTIFY client; `createAdapter` is a thin
// factory around it, mirrored below so the namespace adapter can be our subclass.
import { PubSubClient } from '@socket.io/postgres-adapter/dist/util.js';
import type pg from 'pg';
import type { Namespace } from 'socket.io';
import type {
  Adapter,
  BroadcastOptions,
  ClusterAdapterOptions,
  ClusterMessage,
  PrivateSessionId,
  Room,
  Session,
  SocketId,
} from 'socket.io-adapter';

/** socket.io-adapter's MessageType.BROADCAST (the enum is not importable as a value from ESM reliably). */
export const BROADCAST = 3;
/** socket.io-parser's PacketType.EVENT. */
const EVENT_PACKET = 2;

export interface EventPacket {
  type: number;
  data: unknown[];
  id?: number;
  nsp?: string;
}

interface StoredPacket {
  seq: number;
  opts: BroadcastOptions;
  data: unknown[];
  emittedAt: number;
}

interface Held {
  rooms: ReadonlySet<Room>;
  data: unknown[];
}

export interface RealtimeAdapterOptions {
  /** How long a dropped client's session (rooms, missed packets) is kept for recovery. */
  maxDisconnectionDurationMs: number;
  /** Bound on remembered packets: past it the oldest go, and a recovery that needs them falls back. */
  maxRememberedPackets: number;
  errorHandler: (error: Error) => void;
  /** The monotonically increasing id of an event packet's data (`[name, ...args]`), if it has one. */
  eventIdOf: (data: readonly unknown[]) => number | undefined;
  /** The durable log: events of `rooms` after `afterId`, oldest first, as packet data. */
  readSince: (rooms: Room[], afterId: number, limit: number) => Promise<LogPacket[]>;
}

export interface LogPacket {
  id: number;
  room: Room;
  data: unknown[];
}

const RESYNC_PAGE = 1000;
const LISTEN_WAIT_MS = 15_000;
/** How long a resync remembers what it delivered, to drop the same events arriving late from the engine. */
const RESYNC_ECHO_MS = 60_000;

export const encodeOptions = (opts: BroadcastOptions) => ({
  rooms: [...opts.rooms],
  except: [...(opts.except ?? [])],
  flags: opts.flags,
});

/** What the gateway and RoomSubscriptions use, whichever engine carries events between processes. */
export interface RealtimeAdapter {
  /** Everything up to `eventId` happened before this process served anyone (set at startup). */
  raiseHighWater(eventId: number): void;
  /** After the engine's subscription came back: catch every local room up from the event log. */
  resync(listening: () => boolean): Promise<void>;
  hold(sid: SocketId): void;
  setFloor(sid: SocketId, room: Room, eventId: number): void;
  release(sid: SocketId): void;
  /** The `socket.data` of a session kept for recovery under `pid`, if there is one. */
  sessionData(pid: PrivateSessionId): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin pattern requires `any[]`
type AdapterClass = abstract new (...args: any[]) => Adapter;

/**
 * Our delivery layer over an official Socket.IO cluster adapter (`@socket.io/postgres-adapter`
 * or `@socket.io/redis-adapter`; the matching emitter in a monitor-only process reaches the same
 * rooms). The engine subclass says how a broadcast is published (`publishBroadcast`) and hands
 * every broadcast it receives from another process to `deliverLocally`. Three additions, all
 * inside the adapter API:
 *
 * 1. **Holds and floors.** While a socket replays the event log, room broadcasts that target it
 *    are buffered instead of written and sent when the hold ends, so the replay and the live
 *    stream meet without a gap (the socket joined the room before the replay read the log). A
 *    floor (room, last replayed id) then drops, for that socket, live events of that room the
 *    replay already sent — including ones whose message arrives late — so there is no duplicate.
 * 2. **Connection state recovery.** Neither official adapter implements it (the Postgres one's
 *    `doPublish` returns an empty offset and `restoreSession` is the base no-op; the Redis one's
 *    README lists it as unsupported). We keep sessions and recent packets in memory, like
 *    Socket.IO's SessionAwareAdapter, for every packet delivered here, local or from another
 *    process. A client that drops briefly and reconnects to the same process gets its rooms and
 *    missed packets back (`socket.recovered`); otherwise it resubscribes with `since_event_id`,
 *    which reads the durable event log.
 * 3. **Resync after a lost subscription.** Messages sent while this process's LISTEN (or Redis
 *    SUBSCRIBE) connection was down are lost (neither engine queues them for a subscriber that
 *    is gone). When it is back, local deliveries are buffered, every local room is caught up
 *    from the event log after the last event this process received for it, then the buffer is
 *    flushed without what the catch-up already sent.
 *
 * Local delivery happens before the publish round trip, so an event reaches this process's
 * clients without waiting for the engine. The engine must publish one process's broadcasts in
 * the order they were issued (one ordered stream), so other processes see a room's events in
 * event-id order.
 */
export function withRealtimeDelivery<TBase extends AdapterClass>(Base: TBase) {
  abstract class RealtimeDelivery extends Base implements RealtimeAdapter {
    private readonly holds = new Map<SocketId, Held[]>();
    /** Per socket, per room: events with an id at or below this were replayed; never send them live. */
    private readonly floors = new Map<SocketId, Map<Room, number>>();
    protected readonly sessions = new Map<PrivateSessionId, Session & { disconnectedAt: number }>();
    /** Remembered packets, oldest first; `packets[i].seq === firstSeq + i`. */
    private packets: StoredPacket[] = [];
    private firstSeq = 1;
    private nextSeq = 1;
    private readonly offsetPrefix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    private readonly recoveryTimer: NodeJS.Timeout;
    /** Per local room (not socket-id rooms): the highest event id this process received for it. */
    private readonly lastReceived = new Map<Room, number>();
    private highWater = 0;
    /** Set while resyncing: room broadcasts wait here. */
    private resyncBuffer?: { packet: EventPacket; opts: BroadcastOptions }[];
    private resyncAgain = false;
    private closed = false;
    /**
     * `room#id` of the events a resync delivered from the log, with when: the same event's own
     * message may still arrive after the resync ended (it was published before LISTEN was back,
     * but delivered late) and must not be sent twice. Kept for RESYNC_ECHO_MS.
     */
    private readonly caughtUp = new Map<string, number>();
    /** Set by the engine subclass's constructor (a mixin constructor takes only `...args`). */
    protected realtime!: RealtimeAdapterOptions;

    /** Sends a room broadcast to the other processes. Never throws; keeps issue order. */
    protected abstract publishBroadcast(packet: EventPacket, opts: BroadcastOptions): void;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin pattern requires `any[]`
    constructor(...args: any[]) {
      super(...args);
      this.recoveryTimer = setInterval(() => this.forgetExpired(), 5_000);
      this.recoveryTimer.unref();
      // A new room has seen nothing yet: its catch-up baseline is everything received so far.
      this.on('create-room', (room: Room) => {
        if (!this.sids.has(room)) this.lastReceived.set(room, this.highWater);
      });
      this.on('delete-room', (room: Room) => this.lastReceived.delete(room));
    }

    /** Everything up to `eventId` happened before this process served anyone (set at startup). */
    raiseHighWater(eventId: number): void {
      if (eventId > this.highWater) this.highWater = eventId;
    }

    /**
     * After the LISTEN connection came back: holds room broadcasts, waits until `listening()`,
     * replays each local room's events after the last one received, then releases what was held.
     */
    async resync(listening: () => boolean): Promise<void> {
      if (this.resyncBuffer) {
        this.resyncAgain = true;
        return;
      }
      this.resyncBuffer = [];
      try {
        const deadline = Date.now() + LISTEN_WAIT_MS;
        while (!listening() && !this.closed && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        // Closed meanwhile (the process stops): nothing to catch up, and the database may be gone.
        const rooms = this.closed ? [] : [...this.lastReceived.keys()];
        let after = rooms.length > 0 ? Math.min(...this.lastReceived.values()) : Infinity;
        while (rooms.length > 0) {
          const page = await this.realtime.readSince(rooms, after, RESYNC_PAGE);
          for (const event of page) {
            after = event.id;
            const last = this.lastReceived.get(event.room);
            if (last === undefined || event.id <= last) continue;
            this.caughtUp.set(`${event.room}#${event.id}`, Date.now());
            this.deliverLocally(
              { type: EVENT_PACKET, data: [...event.data], nsp: this.nsp.name },
              { rooms: new Set([event.room]), except: new Set(), flags: { local: true } },
              true,
            );
          }
          if (page.length < RESYNC_PAGE) break;
        }
      } catch (error) {
        this.realtime.errorHandler(
          new Error(`resync after a LISTEN outage failed: ${(error as Error).message}`),
        );
      } finally {
        const buffered = this.resyncBuffer;
        this.resyncBuffer = undefined;
        for (const { packet, opts } of buffered) {
          const id = this.realtime.eventIdOf(packet.data);
          const caughtUp =
            id !== undefined && [...opts.rooms].every((room) => (this.lastReceived.get(room) ?? -1) >= id);
          if (!caughtUp) this.deliverLocally(packet, opts);
        }
      }
      if (this.resyncAgain && !this.closed) {
        this.resyncAgain = false;
        await this.resync(listening);
      }
    }

    override close(): Promise<void> | void {
      this.closed = true;
      clearInterval(this.recoveryTimer);
      return super.close();
    }

    /** Buffers every room broadcast to `sid` until `release`. Callers do not nest holds per socket. */
    hold(sid: SocketId): void {
      if (!this.holds.has(sid)) this.holds.set(sid, []);
    }

    /** From now on, `sid` gets no live event of `room` with an id at or below `eventId`. */
    setFloor(sid: SocketId, room: Room, eventId: number): void {
      if (!this.sids.get(sid)?.has(room)) return;
      let rooms = this.floors.get(sid);
      if (!rooms) this.floors.set(sid, (rooms = new Map()));
      rooms.set(room, Math.max(eventId, rooms.get(room) ?? 0));
    }

    /** Ends the hold and sends what was buffered, in arrival order, above the socket's floors. */
    release(sid: SocketId): void {
      const held = this.holds.get(sid);
      this.holds.delete(sid);
      for (const { rooms, data } of held ?? []) {
        if (this.belowFloor(sid, rooms, data)) continue;
        // Local and addressed to the socket's own room: not remembered again, not held again.
        void super.broadcast(
          { type: EVENT_PACKET, data, nsp: this.nsp.name },
          { rooms: new Set([sid]), except: new Set(), flags: { local: true } },
        );
      }
    }

    override del(id: SocketId, room: Room): Promise<void> | void {
      this.floors.get(id)?.delete(room);
      return super.del(id, room);
    }

    override delAll(id: SocketId): void {
      this.floors.delete(id);
      this.holds.delete(id);
      super.delAll(id);
    }

    override broadcast(packet: EventPacket, opts: BroadcastOptions): void {
      if (!opts.flags?.local && !this.isDirect(opts)) {
        // A copy: local delivery appends the recovery offset to `data`.
        this.publishBroadcast({ ...packet, data: [...packet.data] }, opts);
      }
      this.deliverLocally(packet, opts);
    }

    sessionData(pid: PrivateSessionId): unknown {
      return this.sessions.get(pid)?.data;
    }

    override persistSession(session: Session): void {
      this.sessions.set(session.pid, { ...session, missedPackets: [], disconnectedAt: Date.now() });
    }

    override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
      const session = this.sessions.get(pid);
      this.sessions.delete(pid);
      const seq = this.parseOffset(offset);
      const expired =
        session === undefined ||
        session.disconnectedAt + this.realtime.maxDisconnectionDurationMs < Date.now();
      // An offset older than what we remember (or from another process) cannot be proven gap-free.
      if (expired || seq === undefined || seq < this.firstSeq - 1 || seq >= this.nextSeq) {
        return Promise.resolve(null as unknown as Session);
      }
      const rooms = new Set(session.rooms);
      const missedPackets: unknown[][] = [];
      for (let i = seq + 1 - this.firstSeq; i < this.packets.length; i++) {
        const packet = this.packets[i];
        if (targets(rooms, packet.opts)) missedPackets.push(packet.data);
      }
      const { disconnectedAt: _, ...restored } = session;
      return Promise.resolve({ ...restored, missedPackets });
    }

    protected deliverLocally(packet: EventPacket, opts: BroadcastOptions, catchUp = false): void {
      if (!this.isDirect(opts)) {
        if (this.resyncBuffer && !catchUp) {
          this.resyncBuffer.push({ packet, opts });
          return;
        }
        if (!catchUp && this.caughtUp.size > 0 && this.deliveredByResync(opts.rooms, packet.data)) return;
        this.noteReceived(opts.rooms, packet.data);
      }
      this.remember(packet, opts);
      const skipped: SocketId[] = [];
      if (this.floors.size > 0 && !this.isDirect(opts)) {
        for (const room of opts.rooms) {
          for (const sid of this.rooms.get(room) ?? []) {
            if (this.belowFloor(sid, opts.rooms, packet.data)) skipped.push(sid);
          }
        }
      }
      if (this.holds.size > 0) {
        for (const [sid, buffer] of this.holds) {
          if (!skipped.includes(sid) && this.isHeldTarget(sid, opts)) {
            buffer.push({ rooms: opts.rooms, data: packet.data });
            skipped.push(sid);
          }
        }
      }
      const except = skipped.length > 0 ? new Set([...(opts.except ?? []), ...skipped]) : opts.except;
      void super.broadcast(packet, { ...opts, except, flags: { ...opts.flags, local: true } });
    }

    /** Every room of this event already got it from a resync's read of the log. */
    private deliveredByResync(rooms: ReadonlySet<Room>, data: readonly unknown[]): boolean {
      const id = this.realtime.eventIdOf(data);
      if (id === undefined || rooms.size === 0) return false;
      return [...rooms].every((room) => this.caughtUp.has(`${room}#${id}`));
    }

    private noteReceived(rooms: ReadonlySet<Room>, data: readonly unknown[]): void {
      const id = this.realtime.eventIdOf(data);
      if (id === undefined) return;
      if (id > this.highWater) this.highWater = id;
      for (const room of rooms) {
        const last = this.lastReceived.get(room);
        if (last !== undefined && id > last) this.lastReceived.set(room, id);
      }
    }

    private belowFloor(sid: SocketId, rooms: ReadonlySet<Room>, data: readonly unknown[]): boolean {
      const floors = this.floors.get(sid);
      if (!floors) return false;
      const id = this.realtime.eventIdOf(data);
      if (id === undefined) return false;
      for (const room of rooms) {
        const floor = floors.get(room);
        if (floor !== undefined && id <= floor) return true;
      }
      return false;
    }

    /** Stores an event packet for recovery and appends its offset, as Socket.IO's own adapter does. */
    private remember(packet: EventPacket, opts: BroadcastOptions): void {
      const recoverable =
        this.nsp.server.opts.connectionStateRecovery &&
        packet.type === EVENT_PACKET &&
        packet.id === undefined &&
        opts.flags?.volatile === undefined;
      if (!recoverable) return;
      const seq = this.nextSeq++;
      packet.data.push(`${this.offsetPrefix}-${seq}`);
      this.packets.push({ seq, opts, data: packet.data, emittedAt: Date.now() });
      if (this.packets.length > this.realtime.maxRememberedPackets * 1.25)
        this.trim(this.packets.length - this.realtime.maxRememberedPackets);
    }

    private forgetExpired(): void {
      const threshold = Date.now() - this.realtime.maxDisconnectionDurationMs;
      for (const [pid, session] of this.sessions)
        if (session.disconnectedAt < threshold) this.sessions.delete(pid);
      const echoes = Date.now() - RESYNC_ECHO_MS;
      for (const [key, at] of this.caughtUp) if (at < echoes) this.caughtUp.delete(key);
      let drop = 0;
      while (drop < this.packets.length && this.packets[drop].emittedAt < threshold) drop++;
      this.trim(drop);
    }

    private trim(count: number): void {
      if (count <= 0) return;
      this.packets = this.packets.slice(count);
      this.firstSeq += count;
    }

    private parseOffset(offset: string): number | undefined {
      const prefix = `${this.offsetPrefix}-`;
      if (!offset.startsWith(prefix)) return undefined;
      const seq = Number(offset.slice(prefix.length));
      return Number.isSafeInteger(seq) ? seq : undefined;
    }

    /** A packet addressed only to one socket's own room (a direct `socket.emit`). */
    private isDirect(opts: BroadcastOptions): boolean {
      if (opts.rooms.size !== 1) return false;
      const [room] = opts.rooms;
      return this.nsp.sockets.has(room) || this.nsp._preConnectSockets?.has(room);
    }

    private isHeldTarget(sid: SocketId, opts: BroadcastOptions): boolean {
      for (const room of opts.except ?? []) if (this.rooms.get(room)?.has(sid)) return false;
      if (opts.rooms.size === 0) return this.sids.has(sid);
      if (opts.rooms.size === 1 && opts.rooms.has(sid)) return false;
      for (const room of opts.rooms) if (this.rooms.get(room)?.has(sid)) return true;
      return false;
    }
  }
  return RealtimeDelivery;
}

function targets(sessionRooms: ReadonlySet<Room>, opts: BroadcastOptions): boolean {
  for (const room of opts.except ?? []) if (sessionRooms.has(room)) return false;
  if (opts.rooms.size === 0) return true;
  for (const room of opts.rooms) if (sessionRooms.has(room)) return true;
  return false;
}

/**
 * The official `@socket.io/postgres-adapter` (LISTEN/NOTIFY) with our delivery layer. Publishing
 * stays ordered because its pool has one connection for queries (plus the LISTEN connection).
 */
export class PostgresRealtimeAdapter extends withRealtimeDelivery(PostgresAdapter) {
  constructor(
    nsp: Namespace,
    opts: ClusterAdapterOptions,
    client: PubSubClient,
    realtime: RealtimeAdapterOptions,
  ) {
    super(nsp, opts, client);
    this.realtime = realtime;
  }

  protected publishBroadcast(packet: EventPacket, opts: BroadcastOptions): void {
    this.publish({
      type: BROADCAST,
      data: { packet, opts: encodeOptions(opts) },
    } as unknown as Parameters<PostgresAdapter['publish']>[0]);
  }

  override onMessage(message: ClusterMessage, offset?: string): void {
    const m = message as unknown as {
      type: number;
      uid: string;
      nsp: string;
      data: { requestId?: string; packet: EventPacket; opts: ReturnType<typeof encodeOptions> };
    };
    if (m.type === BROADCAST && m.data.requestId === undefined && m.nsp === this.nsp.name) {
      if (m.uid === this.uid) return;
      const { rooms, except, flags } = m.data.opts;
      this.deliverLocally(m.data.packet, { rooms: new Set(rooms), except: new Set(except), flags });
      return;
    }
    super.onMessage(message, offset);
  }
}

/**
 * The adapter factory for `io.adapter(...)`: `@socket.io/postgres-adapter`'s `createAdapter`, with
 * our subclass as the namespace adapter. `pool` should be dedicated (see RealtimeAdapter).
 */
export function createRealtimeAdapter(
  pool: pg.Pool,
  realtime: RealtimeAdapterOptions,
  opts: Partial<PostgresAdapterOptions & ClusterAdapterOptions> = {},
): (nsp: Namespace) => PostgresRealtimeAdapter {
  const options = {
    channelPrefix: 'socket.io',
    tableName: 'socket_io_attachments',
    payloadThreshold: 8000,
    cleanupInterval: 30_000,
    heartbeatInterval: 5_000,
    heartbeatTimeout: 10_000,
    errorHandler: realtime.errorHandler,
    ...opts,
  };
  const namespaces = new Map<string, PostgresRealtimeAdapter>();
  // Set when the last namespace closed. PubSubClient.close releases only a connection whose LISTENs
  // are done; one still connecting or listening would stay checked out for good and the pool's
  // end() (RealtimeEngine.close, at shutdown) would never settle. Both cases are caught below.
  let closed = false;
  const parked = new Promise<never>(() => undefined);
  // Every LISTEN connection in the order it was acquired: a resync waits for a connection at least
  // as new as its own to be listening, so it also ends when its own connection died during its
  // LISTENs and a later one took over (not only when that exact connection is stored).
  const acquiredAs = new WeakMap<pg.PoolClient, number>();
  let acquired = 0;
  const listenAwarePool = {
    connect: async () => {
      let connection: pg.PoolClient;
      try {
        connection = await pool.connect();
      } catch (error) {
        // A rejection makes PubSubClient retry on a timer, forever once the pool has ended.
        if (closed) return parked;
        throw error;
      }
      if (closed) {
        connection.release();
        return parked;
      }
      // PubSubClient keeps this connection checked out and neither listens for its errors (an
      // unhandled 'error' would crash the process) nor releases it when it dies (the pool would
      // keep counting it, and with max 2 starve every later query). We do both.
      connection.on('error', (error: Error) => realtime.errorHandler(error));
      connection.once('end', () => {
        try {
          connection.release(new Error('LISTEN connection ended'));
        } catch {
          // Already released (PubSubClient.close on shutdown).
        }
      });
      // `client` is set once the LISTENs on the new connection are done. A reconnect catches up
      // what was notified while LISTEN was down; the first connection too: the server already
      // listens (and after a restart its clients are back within a second) while LISTEN is set up.
      const order = ++acquired;
      acquiredAs.set(connection, order);
      const listening = () => {
        const current = client['client'];
        return current !== undefined && (acquiredAs.get(current) ?? 0) >= order;
      };
      for (const adapter of namespaces.values()) void adapter.resync(listening);
      return connection;
    },
    query: (text: string, values?: unknown[]) => pool.query(text, values),
  } as unknown as pg.Pool;
  const client = new PubSubClient(
    listenAwarePool,
    options,
    (msg) => namespaces.get(msg.nsp)?.['uid'] === msg.uid,
    (msg) => {
      // @socket.io/postgres-emitter 0.1 predates the adapter's ClusterAdapter rewrite and sends no
      // `nsp`; the official factory then drops every emitter message. The packet names its namespace.
      const message = msg as ClusterMessage & { data?: { packet?: { nsp?: string } } };
      if (message.nsp === undefined) message.nsp = message.data?.packet?.nsp ?? '/';
      namespaces.get(message.nsp)?.onMessage(message);
    },
  );
  // PubSubClient stores its connection once the LISTENs are done: one stored after close is released.
  let listening: pg.PoolClient | undefined;
  Object.defineProperty(client, 'client', {
    get: () => listening,
    set: (connection: pg.PoolClient | undefined) => {
      if (closed && connection !== undefined) {
        connection.removeAllListeners('end');
        connection.release();
        listening = undefined;
        return;
      }
      // A connection that died during its LISTENs makes PubSubClient reconnect twice (its query's
      // catch and its 'end' handler each schedule one): the second stored connection replaces the
      // first without releasing it, which would hold a slot of the two-connection pool for good
      // (and with it every NOTIFY). The replaced one is closed, with its notification handler.
      if (listening !== undefined && connection !== undefined && connection !== listening) {
        const replaced = listening;
        replaced.removeAllListeners('end');
        replaced.removeAllListeners('notification');
        try {
          replaced.release(true);
        } catch {
          // Already released (it ended: the 'end' listener released it).
        }
      }
      listening = connection;
    },
  });
  // A `function`, not an arrow: Socket.IO calls it with `new`.
  return function realtimeAdapter(nsp: Namespace): PostgresRealtimeAdapter {
    const adapter = new PostgresRealtimeAdapter(nsp, options, client, realtime);
    namespaces.set(nsp.name, adapter);
    client.addNamespace(nsp.name);
    const close = adapter.close.bind(adapter);
    adapter.close = () => {
      namespaces.delete(nsp.name);
      if (namespaces.size === 0) {
        closed = true;
        client.close();
      }
      return close();
    };
    return adapter;
  };
}
