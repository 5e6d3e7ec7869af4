import { Module } from '@nestjs/common';

import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhooksRepository } from './webhooks.repository.js';

/** Delivery (fan-out from the event log, attempts): in every process, API and monitor alike. */
@Module({
  providers: [WebhooksRepository, WebhookDeliveryWorker],
  exports: [WebhooksRepository, WebhookDeliveryWorker],
})
export class WebhookDeliveryModule {}
