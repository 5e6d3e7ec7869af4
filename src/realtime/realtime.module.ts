import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';

import type { AppRole } from '../config/config.js';
import { EmitterRelay } from './emitter-relay.js';
import { REALTIME_PG_POOL, realtimePoolProvider } from './realtime-pool.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RoomSubscriptions } from './room-subscriptions.js';
import { WalletAccessService } from './wallet-access.service.js';

/** Ends the adapter's pool after Nest has closed the Socket.IO server (and so the adapter). */
@Module({ providers: [realtimePoolProvider, WalletAccessService, RoomSubscriptions, RealtimeGateway] })
class RealtimeGatewayModule implements OnApplicationShutdown {
  constructor(@Inject(REALTIME_PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Module({ providers: [EmitterRelay] })
class RealtimeEmitterModule {}

/**
 * Roles `all` and `api`: the Socket.IO gateway at /ws, rooms shared across processes by the
 * Postgres adapter (also in a lone `all` process, so `api` processes can be added next to it).
 * Role `monitor` (no HTTP server): the Postgres emitter relays its events to those rooms.
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
