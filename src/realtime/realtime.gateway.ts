import { Logger, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';

import type { AuthUser } from '../auth/auth-user.js';
import { AuthService } from '../auth/auth.service.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { userRoom } from '../events/domain-events.js';
import { EventBus } from '../events/event-bus.js';
import { EventLogRepository } from '../events/event-log.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type Ack, parseEventId, parseSubscribe } from './dto/subscribe.dto.js';
import { OriginPolicy } from './origin-policy.js';
import type { RealtimeAdapter } from './realtime.adapter.js';
import { RealtimeEngine } from './realtime-engine.js';
import { RoomSubscriptions } from './room-subscriptions.js';
import { eventIdOf, toSocketEvent } from './socket-event.js';
import { WalletAccessService } from './wallet-access.service.js';

/** Kept for a dropped client to recover its session (rooms + missed packets) on reconnect. */
export const RECOVERY_WINDOW_MS = 30_000;
/** How often wallet rooms are re-checked against ownership (a wallet deleted while subscribed). */
export const OWNERSHIP_RECHECK_MS = 30_000;

interface SocketData {
  user: AuthUser;
  /** When the handshake's token expires (ms since the epoch); the socket is closed then. */
  expiresAt?: number;
  /** The wallet room from the handshake query, already checked. */
  handshakeRoom?: string;
  handshakeSince?: number;
}

/** What the gateway itself sends; domain events are relayed by name (SOCKET_EVENT_NAMES). */
interface GatewayEvents {
  session_expired: (body: { error: string }) => void;
  subscription_ended: (body: { wallet_address: string; error: string }) => void;
  /** Sent by RoomSubscriptions after a replay that the event log's retention cut short. */
  replay_truncated: (body: {
    wallet_address: string;
    since_event_id: number;
    pruned_through_event_id: number;
  }) => void;
}

type AppSocket = Socket<Record<string, never>, GatewayEvents, Record<string, never>, SocketData>;

/** `exp` of a token already verified by AuthService, in ms since the epoch. */
const tokenExpiry = (token: string): number | undefined => {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
};

/** A refusal the client should read (as `connect_error`'s message); anything else is ours. */
class HandshakeRefused extends Error {}

/** Wallet rooms are lower-case addresses (walletRoom); the others are socket ids and user rooms. */
const isWalletRoom = (room: string): boolean => /^0x[0-9a-f]{40}$/.test(room);

const queryValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** The Socket.IO server's options: every gateway on `/ws` (any namespace) declares the same ones. */
export const SOCKET_SERVER_OPTIONS = {
  path: '/ws',
  serveClient: false,
  // skipMiddlewares: re-running the (async) middleware on a recovered socket would open a window in
  // which it is in its rooms but not yet reachable, and events would be lost. The token is checked
  // before the session is restored instead (guardRecovery).
  connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
};

/**
 * Socket.IO at `/ws`: transport only. It authenticates the handshake, checks ownership before a
 * join (WalletAccessService), and relays committed domain events to their rooms; rooms are
 * shared by every API process through the engine's adapter (Postgres, or Redis with REDIS_URL).
 */
@WebSocketGateway(SOCKET_SERVER_OPTIONS)
export class RealtimeGateway
  implements OnGatewayInit<Server>, OnGatewayConnection<AppSocket>, OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger(RealtimeGateway.name);
  private stopRelay?: () => void;
  private recheckTimer?: NodeJS.Timeout;

  @WebSocketServer() server: Server;

  constructor(
    private readonly auth: AuthService,
    private readonly access: WalletAccessService,
    private readonly rooms: RoomSubscriptions,
    private readonly bus: EventBus,
    private readonly eventLog: EventLogRepository,
    @InjectConfig() private readonly config: AppConfig,
    private readonly engine: RealtimeEngine,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  afterInit(server: Server): void {
    this.guardRecovery(server);
    server.adapter(
      this.engine.createAdapter({
        maxDisconnectionDurationMs: RECOVERY_WINDOW_MS,
        maxRememberedPackets: 50_000,
        eventIdOf,
        readSince: async (rooms, afterId, limit) =>
          (await this.eventLog.since(rooms, afterId, limit)).map((event) => {
            const { name, payload } = toSocketEvent(event);
            return { id: event.id, room: event.room, data: [name, payload] };
          }),
        errorHandler: (error) => this.logger.warn(`socket.io ${this.engine.kind} adapter: ${error.message}`),
      }) as unknown as Parameters<Server['adapter']>[0],
    );
    this.metrics?.countSockets(() => server.of('/').sockets.size);
    const origins = new OriginPolicy(this.config.http.corsOrigins);
    server.engine.use(origins.middleware);
    server.engine.opts.allowRequest = (req, callback) =>
      origins.allows(req) ? callback(null, true) : callback('origin not allowed (CORS_ORIGINS)', false);
    server.use((socket, next) => {
      this.authenticate(socket as AppSocket).then(
        () => next(),
        (error: Error) => {
          if (error instanceof HandshakeRefused) return next(error);
          this.logger.error(`handshake failed: ${error.message}`);
          next(new Error('internal error, try again'));
        },
      );
    });
    this.recheckTimer = setInterval(() => {
      this.endRevokedSubscriptions().catch((error: Error) =>
        this.logger.warn(`ownership re-check failed: ${error.message}`),
      );
    }, OWNERSHIP_RECHECK_MS);
    this.recheckTimer.unref();
    // Committed events of this process (the monitor in role `all`, price alerts) go to the room
    // here and, through the adapter, in every other API process.
    this.stopRelay = this.bus.subscribe((events) => {
      for (const event of events) {
        const { name, payload } = toSocketEvent(event);
        server.to(event.room).emit(name, payload);
      }
    });
  }

  /** Before the server listens: a LISTEN-outage catch-up never reaches back before this point. */
  async onModuleInit(): Promise<void> {
    (this.server.of('/').adapter as unknown as RealtimeAdapter).raiseHighWater(await this.eventLog.lastId());
  }

  onApplicationShutdown(): void {
    clearInterval(this.recheckTimer);
    this.stopRelay?.();
  }

  async handleConnection(socket: AppSocket): Promise<void> {
    // A recovered session lives as long as the token it was recovered with (checked in guardRecovery).
    if (socket.recovered) socket.data.expiresAt = tokenExpiry(String(socket.handshake.auth.token));
    this.closeAtExpiry(socket);
    // A recovered session has its rooms back, and its missed packets are already sent.
    if (socket.recovered) return;
    const { user, handshakeRoom, handshakeSince } = socket.data;
    try {
      await this.rooms.serially(socket, async () => {
        await socket.join(userRoom(user.id));
        if (handshakeRoom !== undefined) await this.rooms.join(socket, handshakeRoom, handshakeSince);
      });
    } catch (error) {
      this.logger.error(`joining the handshake rooms failed: ${(error as Error).message}`);
      socket.disconnect(true);
    }
  }

  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: AppSocket, @MessageBody() body: unknown): Promise<Ack> {
    return this.answer(socket, async () => {
      const parsed = parseSubscribe(body);
      if (!parsed.ok) return parsed;
      const access = await this.access.walletRoomFor(socket.data.user, parsed.value.wallet_address);
      if (!access.ok) return access;
      const { replayed, truncated } = await this.rooms.join(socket, access.room, parsed.value.since_event_id);
      return parsed.value.since_event_id === undefined ? { ok: true } : { ok: true, replayed, truncated };
    });
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: AppSocket, @MessageBody() body: unknown): Promise<Ack> {
    return this.answer(socket, async () => {
      const parsed = parseSubscribe(body);
      if (!parsed.ok) return parsed;
      const access = await this.access.walletRoomFor(socket.data.user, parsed.value.wallet_address);
      if (!access.ok) return access;
      await this.rooms.leave(socket, access.room);
      return { ok: true };
    });
  }

  /**
   * Removes this process's sockets from the rooms of wallets their user no longer has (deleted
   * after the join), and tells them (`subscription_ended`). Runs every OWNERSHIP_RECHECK_MS.
   */
  async endRevokedSubscriptions(): Promise<void> {
    const memberships: { socket: AppSocket; userId: string; room: string }[] = [];
    for (const socket of (this.server.of('/').sockets as Map<string, AppSocket>).values()) {
      for (const room of socket.rooms) {
        if (isWalletRoom(room)) memberships.push({ socket, userId: socket.data.user.id, room });
      }
    }
    const revoked = await this.access.revoked(memberships);
    for (const index of revoked) {
      const { socket, room } = memberships[index];
      await this.rooms.serially(socket, async () => {
        if (!socket.rooms.has(room)) return;
        await this.rooms.leave(socket, room);
        socket.emit('subscription_ended', {
          wallet_address: room,
          error: 'wallet_address is no longer one of your wallets',
        });
      });
    }
  }

  /**
   * A socket lives no longer than the token it was opened with: at expiry it is told
   * (`session_expired`) and disconnected, and must reconnect with a fresh token.
   */
  private closeAtExpiry(socket: AppSocket): void {
    const { expiresAt } = socket.data;
    if (expiresAt === undefined) return;
    const expire = () => {
      socket.emit('session_expired', { error: 'access token expired: reconnect with a fresh token' });
      socket.disconnect(true);
    };
    const delay = expiresAt - Date.now();
    if (delay <= 0) return expire();
    // setTimeout holds at most ~24.8 days; a longer-lived token is re-armed on reconnect anyway.
    const timer = setTimeout(expire, Math.min(delay, 2 ** 31 - 1));
    socket.once('disconnect', () => clearTimeout(timer));
  }

  /**
   * Socket.IO restores a session from the client's `auth.pid` and `auth.offset` (rooms, `data`,
   * missed packets written out at once) before any middleware runs, and with skipMiddlewares runs
   * none. So the namespace's restore step is wrapped: a session is restored only for a valid,
   * unexpired token of the user it belongs to; otherwise the connection is treated as new
   * (pid and offset dropped) and goes through the handshake, which refuses a bad token.
   */
  private guardRecovery(server: Server): void {
    type CreateSocket = (client: unknown, auth: Record<string, unknown>) => Promise<Socket>;
    const nsp = server.of('/') as unknown as { _createSocket: CreateSocket; adapter: unknown };
    const restore = nsp._createSocket.bind(nsp);
    nsp._createSocket = async (client, auth) => {
      if (typeof auth?.pid !== 'string') return restore(client, auth);
      const owner = ((nsp.adapter as RealtimeAdapter).sessionData(auth.pid) as SocketData | undefined)?.user
        .id;
      const user =
        typeof auth.token === 'string'
          ? await this.auth.verify(auth.token).catch(() => undefined)
          : undefined;
      if (owner !== undefined && user?.id === owner) return restore(client, auth);
      const { pid: _pid, offset: _offset, ...fresh } = auth;
      return restore(client, fresh);
    };
  }

  /** Runs after the socket's earlier joins; a failure is answered, not left without an ack. */
  private async answer(socket: AppSocket, work: () => Promise<Ack>): Promise<Ack> {
    try {
      return await this.rooms.serially(socket, work);
    } catch (error) {
      this.logger.error(`socket request failed: ${(error as Error).message}`);
      return { ok: false, error: 'internal error, try again' };
    }
  }

  /** Handshake: a valid token (`auth: { token }`), and an owned `wallet_address` if one is given. */
  private async authenticate(socket: AppSocket): Promise<void> {
    const token: unknown = socket.handshake.auth?.token;
    if (typeof token !== 'string' || token === '') {
      throw new HandshakeRefused(
        'unauthorized: missing token (connect with auth: { token: "<access_token>" })',
      );
    }
    let user: AuthUser;
    try {
      user = await this.auth.verify(token);
    } catch {
      throw new HandshakeRefused('unauthorized: access token is invalid or expired');
    }
    const data: SocketData = { user, expiresAt: tokenExpiry(token) };
    const address = queryValue(socket.handshake.query.wallet_address);
    if (address !== undefined) {
      const access = await this.access.walletRoomFor(user, address);
      if (!access.ok) throw new HandshakeRefused(`forbidden: ${access.error}`);
      const since = parseEventId(queryValue(socket.handshake.query.since_event_id));
      if (!since.ok) throw new HandshakeRefused(`bad request: ${since.error}`);
      data.handshakeRoom = access.room;
      data.handshakeSince = since.value;
    }
    socket.data = data;
  }
}
