import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';

import { AlertsModule } from './alerts/alerts.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DepositsModule } from './deposits/deposits.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { MonitorModule } from './monitor/monitor.module.js';
import { NetworksModule } from './networks/networks.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { UsersModule } from './users/users.module.js';
import { WalletsModule } from './wallets/wallets.module.js';
import { WebhookDeliveryModule } from './webhooks/webhook-delivery.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** The database to use (DATABASE_URL, the embedded server, or a test database). */
  databaseUrl: string;
}

/** The modules of one process, chosen by its role (`all`, `api` or `monitor`). */
@Module({})
export class AppModule {
  static register({ config, databaseUrl }: AppModuleOptions): DynamicModule {
    const core: ModuleMetadata['imports'] = [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot({ url: databaseUrl, poolSize: config.database.poolSize }),
      EventsModule,
      // Webhook delivery runs in every role: the process that commits an event starts its delivery.
      WebhookDeliveryModule,
      LoggingModule,
      // /metrics and /health/* in every role (a monitor process serves them on METRICS_PORT).
      MetricsModule,
      HealthModule,
    ];
    const api: ModuleMetadata['imports'] = [
      AuthModule,
      UsersModule,
      WalletsModule,
      DepositsModule,
      NetworksModule,
      WebhooksModule,
      // Price alerts (feed, evaluator, delivery) live with the API, when ALERTS_ENABLED.
      ...(config.alerts.enabled ? [AlertsModule] : []),
    ];
    const imports = [
      ...(config.role === 'monitor' ? core : [...core, ...api]),
      // The chain followers run in `all` and `monitor` processes, never in `api` ones.
      ...(config.role === 'api' ? [] : [MonitorModule]),
      // Gateway for `all`/`api`; for `monitor`, the emitter that relays to the gateways' rooms.
      RealtimeModule.forRole(config.role),
    ];
    return { module: AppModule, imports };
  }
}
