import { Module } from '@nestjs/common';

import { WalletsModule } from '../wallets/wallets.module.js';
import { DepositsController } from './deposits.controller.js';
import { DepositsRepository } from './deposits.repository.js';
import { DepositsService } from './deposits.service.js';

@Module({
  imports: [WalletsModule],
  controllers: [DepositsController],
  providers: [DepositsService, DepositsRepository],
  exports: [DepositsRepository],
})
export class DepositsModule {}
