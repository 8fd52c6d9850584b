import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';
import { AccessTokens } from './access-tokens';
import { ClientAuthGuard } from './client-auth.guard';
import { OAuthService } from './oauth.service';
import { PersonalTokens } from './personal-tokens';

/** OAuth 2.0 for the tenants' users: applications, the authorization flow, tokens and their guard. */
@Module({
  imports: [TenancyModule],
  providers: [AccessTokens, OAuthService, ClientAuthGuard, PersonalTokens],
  exports: [AccessTokens, OAuthService, ClientAuthGuard, PersonalTokens],
})
export class OAuthModule {}
