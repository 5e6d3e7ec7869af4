import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { Public } from '../auth/public.decorator.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { PriceResponseDto, RecentPricesDto, SymbolParamDto } from './dto/alert.dto.js';
import { PriceStore } from './price-store.js';
import { PriceStream } from './price-stream.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

@ApiTags('prices')
@Public()
@Controller('prices')
export class PricesController {
  constructor(
    private readonly prices: PriceStore,
    private readonly stream: PriceStream,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

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
      change_24h_percent: p.change24hPercent,
    }));
  }

  @Get(':symbol/recent')
  @ApiOkResponse({
    type: RecentPricesDto,
    description: 'Recent prices of one symbol for a chart, as the live stream (Socket.IO /prices) sent them',
  })
  @ApiNotFoundResponse({ description: 'The symbol is not one of the feed’s (ALERT_SYMBOLS)' })
  recent(@Param() { symbol }: SymbolParamDto): RecentPricesDto {
    const upper = symbol.toUpperCase();
    if (!this.config.alerts.symbols.includes(upper)) {
      throw new NotFoundException(`symbol ${upper} is not one of the feed's symbols (ALERT_SYMBOLS)`);
    }
    return {
      symbol: upper,
      interval_ms: this.config.alerts.priceStreamIntervalMs,
      points: this.stream.recent(upper),
    };
  }
}
