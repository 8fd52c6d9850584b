import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';
import { AccountQueries } from './accounts/account-queries';
import { LocalAccountCommands } from './accounts/local-account-commands';
import { LocalUsageCache } from './local-usage';

/** The Mastodon domain's services for the apps that serve tenants. */
@Module({
  imports: [TenancyModule],
  providers: [LocalUsageCache, LocalAccountCommands, AccountQueries],
  exports: [LocalUsageCache, LocalAccountCommands, AccountQueries],
})
export class SocialModule {}
