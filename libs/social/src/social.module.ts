import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';
import { LocalUsageCache } from './local-usage';

/** The Mastodon domain's services for the apps that serve tenants. */
@Module({
  imports: [TenancyModule],
  providers: [LocalUsageCache],
  exports: [LocalUsageCache],
})
export class SocialModule {}
