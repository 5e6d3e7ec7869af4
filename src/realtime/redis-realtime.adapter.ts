import { RedisAdapter } from '@socket.io/redis-adapter';
import type { Namespace } from 'socket.io';
import type { BroadcastFlags, BroadcastOptions, Room } from 'socket.io-adapter';

import {
  encodeOptions,
  type EventPacket,
  type RealtimeAdapterOptions,
  withRealtimeDelivery,
} from './realtime.adapter.js';
import type { OrderedRedisPublisher } from './redis-publisher.js';

/** RedisAdapter state its typings keep private; we speak its wire format with it. */
interface RedisAdapterInternals {
  uid: string;
  /** `${key}#${nsp}#`; a one-room broadcast goes to `${channel}${room}#`. */
  channel: string;
  parser: { encode(value: unknown): Buffer; decode(message: Buffer): unknown };
  onmessage: (pattern: unknown, channel: string | Buffer, message: Buffer) => void;
}

type WireOptions = { rooms: Room[]; except?: Room[]; flags?: BroadcastFlags };

/**
 * The official `@socket.io/redis-adapter` (classic pub/sub: PSUBSCRIBE `socket.io#/#*`, one
 * channel per room; the format `@socket.io/redis-emitter` publishes) with our delivery layer
 * (holds and floors, in-memory connection state recovery, resync after a lost subscription).
 *
 * Two points differ from the base class, both in how broadcasts cross processes; its requests
 * (fetchSockets, serverSideEmit, …) are untouched:
 * - Publish: the same message on the same channel, through an OrderedRedisPublisher (ordered,
 *   retried) instead of a bare `pubClient.publish` whose failure would be lost.
 * - Receive: the base class delivers a message with the plain in-memory broadcast, past holds,
 *   floors and recovery; ours goes through `deliverLocally`.
 */
export class RedisRealtimeAdapter extends withRealtimeDelivery(RedisAdapter) {
  constructor(
    nsp: Namespace,
    pubClient: unknown,
    subClient: unknown,
    private readonly publisher: OrderedRedisPublisher,
    realtime: RealtimeAdapterOptions,
  ) {
    super(nsp, pubClient, subClient, { key: 'socket.io' });
    this.realtime = realtime;
    // The base class's subscription listener calls `this.onmessage(null, channel, message)` at
    // each message: an own property here takes precedence over its (private) method.
    this.internals.onmessage = (_pattern, channel, message) =>
      this.onRedisMessage(channel.toString(), message);
  }

  protected publishBroadcast(packet: EventPacket, opts: BroadcastOptions): void {
    const { uid, channel, parser } = this.internals;
    const message = parser.encode([uid, { ...packet, nsp: this.nsp.name }, encodeOptions(opts)]);
    const [room] = opts.rooms;
    void this.publisher.publish(opts.rooms.size === 1 ? `${channel}${room}#` : channel, message);
  }

  private onRedisMessage(channel: string, message: Buffer): void {
    const internals = this.internals;
    if (!channel.startsWith(internals.channel)) return;
    const room = channel.slice(internals.channel.length, -1);
    // Like the base class, skip rooms with no member here (it saves decoding), unless a dropped
    // session may still come back: recovery must have seen every packet of its rooms.
    if (room !== '' && !this.rooms.has(room) && this.sessions.size === 0) return;
    const [uid, packet, opts] = internals.parser.decode(message) as [string, EventPacket, WireOptions];
    if (uid === internals.uid || !packet) return;
    if ((packet.nsp ?? '/') !== this.nsp.name) return;
    this.deliverLocally(packet, {
      rooms: new Set(opts.rooms),
      except: new Set(opts.except ?? []),
      flags: opts.flags,
    });
  }

  private get internals(): RedisAdapterInternals {
    return this as unknown as RedisAdapterInternals;
  }
}
