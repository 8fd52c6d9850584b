import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsRegistry } from './metrics.registry';

/** Prometheus scrape endpoint, platform-wide like the health probes (not resolved to a tenant). */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.registry.metrics();
    // Sent as bytes so Express keeps the exposition format's content type exactly as given.
    res.set('Content-Type', this.registry.contentType).send(Buffer.from(body, 'utf8'));
  }
}
