import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { Public } from '../auth/public.decorator.js';
import { PriceResponseDto } from './dto/alert.dto.js';
import { PriceStore } from './price-store.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

@ApiTags('prices')
@Public()
@Controller('prices')
export class PricesController {
  constructor(private readonly prices: PriceStore) {}

  @Get()
  @ApiOkResponse({
    type: [PriceResponseDto],
    description: 'The latest price of every feed symbol (ALERT_SYMBOLS)',
  })
  list(): PriceResponseDto[] {
    return this.prices.list().map((p) => ({
      symbol: p.symbol,
      price: p.price,
      exchange_time: iso(p.exchangeTimeMs),
      received_at: iso(p.receivedAtMs),
      stale: p.stale,
    }));
  }
}
