import { type DynamicModule, Module, type OnApplicationShutdown } from '@nestjs/common';

import type { AppRole } from '../config/config.js';
import { EmitterRelay } from './emitter-relay.js';
import { RealtimeEngine } from './realtime-engine.js';
import { realtimeEngineProvider } from './realtime-engine.provider.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RoomSubscriptions } from './room-subscriptions.js';
import { WalletAccessService } from './wallet-access.service.js';

/** Closes the engine's connections after Nest has closed the Socket.IO server (and so the adapter). */
@Module({ providers: [realtimeEngineProvider, WalletAccessService, RoomSubscriptions, RealtimeGateway] })
class RealtimeGatewayModule implements OnApplicationShutdown {
  constructor(private readonly engine: RealtimeEngine) {}

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}

@Module({ providers: [realtimeEngineProvider, EmitterRelay] })
class RealtimeEmitterModule {}

/**
 * Roles `all` and `api`: the Socket.IO gateway at /ws, rooms shared across processes by the
 * engine's adapter (also in a lone `all` process, so `api` processes can be added next to it).
 * Role `monitor` (no HTTP server): the engine's emitter relays its events to those rooms.
 * The engine is Redis when REDIS_URL is set, PostgreSQL otherwise (RealtimeEngine).
 */
@Module({})
export class RealtimeModule {
  static forRole(role: AppRole): DynamicModule {
    return {
      module: RealtimeModule,
      imports: [role === 'monitor' ? RealtimeEmitterModule : RealtimeGatewayModule],
    };
  }
}
