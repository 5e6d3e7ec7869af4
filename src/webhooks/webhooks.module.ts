import { Module } from '@nestjs/common';

import { WebhookDeliveryModule } from './webhook-delivery.module.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/** The webhooks REST API (endpoints, secrets, delivery log, replay): API processes. */
@Module({
  imports: [WebhookDeliveryModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
