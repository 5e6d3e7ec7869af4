import { Module } from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { AlertsEngine } from './alerts-engine.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { BinancePriceFeed } from './feed/binance-price-feed.js';
import { PriceFeed } from './feed/price-feed.js';
import { PriceStore } from './price-store.js';
import { PriceStream } from './price-stream.js';
import { PricesController } from './prices.controller.js';
import { PricesGateway } from './prices.gateway.js';

/** Price alerts: the exchange feed, rules (REST), in-memory evaluation, history and delivery. */
@Module({
  imports: [NotificationsModule],
  controllers: [PricesController, AlertsController],
  providers: [
    {
      provide: PriceFeed,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new BinancePriceFeed({ baseUrl: config.alerts.binanceWsUrl, symbols: config.alerts.symbols }),
    },
    PriceStore,
    PriceStream,
    PricesGateway,
    AlertsRepository,
    AlertDispatcher,
    AlertsEngine,
    AlertsService,
  ],
  exports: [AlertsEngine, PriceFeed],
})
export class AlertsModule {}
