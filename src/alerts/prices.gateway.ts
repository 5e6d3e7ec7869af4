import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';

import { SOCKET_SERVER_OPTIONS } from '../realtime/realtime.gateway.js';
import { PriceStream } from './price-stream.js';

/**
 * The public price stream: Socket.IO namespace `/prices` on path `/ws`, open without a token
 * (prices are public; the wallet and user rooms stay on the authenticated default namespace).
 * A client receives `price` events, throttled per symbol, starting with the latest of each.
 * Sent locally: every API process runs its own feed and serves its own clients.
 */
@WebSocketGateway({ ...SOCKET_SERVER_OPTIONS, namespace: 'prices' })
export class PricesGateway implements OnGatewayConnection<Socket>, OnModuleInit, OnApplicationShutdown {
  @WebSocketServer() namespace: Namespace;
  private stop: (() => void) | undefined;

  constructor(private readonly stream: PriceStream) {}

  onModuleInit(): void {
    this.stop = this.stream.onPoint((point) => this.namespace.local.emit('price', point));
  }

  onApplicationShutdown(): void {
    this.stop?.();
  }

  handleConnection(socket: Socket): void {
    for (const point of this.stream.latest()) socket.emit('price', point);
  }
}
