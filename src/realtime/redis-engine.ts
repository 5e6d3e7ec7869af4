import { Logger } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import { createClient, type RedisClientType } from 'redis';
import type { Namespace } from 'socket.io';

import { closeRedis, connectRedis } from '../common/redis-connect.js';
import type { RealtimeAdapterOptions } from './realtime.adapter.js';
import { type EventPublisher, RealtimeEngine } from './realtime-engine.js';
import { OrderedRedisPublisher } from './redis-publisher.js';
import { RedisRealtimeAdapter } from './redis-realtime.adapter.js';

/**
 * Events cross processes through Redis (`REDIS_URL`): API processes use
 * `@socket.io/redis-adapter`, a monitor process `@socket.io/redis-emitter`, on the default key
 * `socket.io`. One connection publishes (ordered, retried: OrderedRedisPublisher); API processes
 * hold a second one for PSUBSCRIBE. node-redis reconnects by itself and resubscribes before it
 * says `ready`; each `ready` after the first means messages may have been missed, so every
 * adapter catches its rooms up from the event log.
 */
export class RedisEngine extends RealtimeEngine {
  readonly kind = 'redis';
  private readonly logger = new Logger('RealtimeEngine');
  private readonly clients: RedisClientType[] = [];
  private readonly adapters = new Set<RedisRealtimeAdapter>();
  private pub?: RedisClientType;
  private sub?: RedisClientType;
  private publisher?: OrderedRedisPublisher;

  private constructor(
    private readonly url: string,
    private readonly connectTimeoutMs: number,
  ) {
    super();
  }

  /**
   * Connects, waiting at most `connectTimeoutMs` for Redis (then rejects, saying what to do);
   * `subscribe` for the gateway roles.
   */
  static async connect(url: string, subscribe: boolean, connectTimeoutMs = 10_000): Promise<RedisEngine> {
    const engine = new RedisEngine(url, connectTimeoutMs);
    engine.pub = await engine.client('publish');
    engine.publisher = new OrderedRedisPublisher(engine.pub, engine.logger);
    if (subscribe) {
      const sub = await engine.client('subscribe');
      engine.sub = sub;
      sub.on('ready', () => {
        for (const adapter of engine.adapters) void adapter.resync(() => sub.isReady);
      });
    }
    return engine;
  }

  createAdapter(options: RealtimeAdapterOptions): (nsp: Namespace) => RedisRealtimeAdapter {
    const { pub, sub, publisher, adapters } = this;
    if (!pub || !sub || !publisher) throw new Error('RedisEngine was connected without a subscriber');
    // A `function`, not an arrow: Socket.IO calls it with `new`.
    return function realtimeAdapter(nsp: Namespace): RedisRealtimeAdapter {
      const adapter = new RedisRealtimeAdapter(nsp, pub, sub, publisher, options);
      adapters.add(adapter);
      const close = adapter.close.bind(adapter);
      adapter.close = () => {
        adapters.delete(adapter);
        return close();
      };
      return adapter;
    };
  }

  createPublisher(): EventPublisher {
    const publisher = this.publisher!;
    const emitter = new Emitter(publisher);
    return {
      emit: (room, name, payload) => emitter.to(room).emit(name, payload),
      drained: () => publisher.drained(),
      stopRetrying: () => publisher.close(),
    };
  }

  async close(): Promise<void> {
    this.publisher?.close();
    await this.publisher?.drained();
    await Promise.all(this.clients.splice(0).map((client) => closeRedis(client)));
  }

  private async client(role: string): Promise<RedisClientType> {
    const client: RedisClientType = createClient({ url: this.url });
    this.clients.push(client);
    // node-redis emits 'error' at every failed reconnect: say it once per outage, and when it is over.
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return;
      down = true;
      this.logger.warn(`redis ${role} connection: ${error.message} (reconnecting)`);
    });
    client.on('ready', () => {
      if (down) this.logger.log(`redis ${role} connection is back`);
      down = false;
    });
    return connectRedis(this.url, this.connectTimeoutMs, `${role} connection`, client);
  }
}
