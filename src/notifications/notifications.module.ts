import { Module } from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { EmailDeliveryWorker } from './email-delivery.worker.js';
import { Mailer, SmtpMailer } from './mailer.js';

@Module({
  providers: [
    { provide: Mailer, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new SmtpMailer(config.smtp) },
    EmailDeliveryWorker,
  ],
  exports: [EmailDeliveryWorker, Mailer],
})
export class NotificationsModule {}
