import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';

/** The tenant-facing Mastodon client API, routed by `Host`. */
@Module({
  imports: [TenancyModule],
  controllers: [],
})
export class InstanceModule {}
