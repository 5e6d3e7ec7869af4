import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { loggerParams } from './logging.js';

/** pino for the whole process: `app.useLogger(app.get(Logger))` routes Nest's Logger through it. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => loggerParams(config),
    }),
  ],
})
export class LoggingModule {}
