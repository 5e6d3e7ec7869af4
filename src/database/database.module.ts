import {
  type DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import { createDataSource } from './data-source.js';
import { runMigrationsLocked } from './migrate.js';

/**
 * Provides the one `DataSource` of the process, migrated before anything else uses it (migrations
 * run under an advisory lock, so processes sharing a database apply them once).
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  private static readonly logger = new Logger('Database');

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(options: { url: string; poolSize?: number; migrate?: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource(options.url, options.poolSize);
            await dataSource.initialize();
            if (options.migrate ?? true) {
              const applied = await runMigrationsLocked(dataSource);
              if (applied.length > 0) DatabaseModule.logger.log(`Applied migrations: ${applied.join(', ')}`);
            }
            return dataSource;
          },
        },
      ],
      exports: [DataSource],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
