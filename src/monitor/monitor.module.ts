import { Module } from '@nestjs/common';

import { ChainModule } from '../chain/chain.module.js';
import { MonitorRepository } from './monitor.repository.js';
import { MonitorSupervisor } from './monitor.supervisor.js';
import { WalletChangeListener } from './wallet-change-listener.js';
import { WatchSet } from './watch-set.js';

/**
 * The chain monitor (roles `all` and `monitor`): one ChainFollower per enabled network that has an
 * endpoint, led by whichever process holds the network's advisory lock. Needs the ChainModule
 * (ChainClientFactory) and the EventsModule.
 */
@Module({
  imports: [ChainModule],
  providers: [MonitorRepository, WatchSet, WalletChangeListener, MonitorSupervisor],
  exports: [MonitorSupervisor, WatchSet],
})
export class MonitorModule {}
