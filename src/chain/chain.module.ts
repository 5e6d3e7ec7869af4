import { Global, Module } from '@nestjs/common';

import { DevnetService } from '../devnet/devnet.service.js';
import { ChainClientFactory } from './chain-client.js';
import { ConfiguredChainClientFactory } from './chain-client.factory.js';

/**
 * Chain access for the monitor: the ChainClientFactory (the DI token; adapters picked from the
 * configuration) and the devnet, which is up before any follower asks for a client.
 */
@Global()
@Module({
  providers: [DevnetService, { provide: ChainClientFactory, useClass: ConfiguredChainClientFactory }],
  exports: [DevnetService, ChainClientFactory],
})
export class ChainModule {}
