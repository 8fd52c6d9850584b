import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { KNOWN_SCOPES } from '@townhall/auth';
import { publicOrigin, publicUrl, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import type { TenantAtHost } from '@townhall/tenancy';
import { CurrentTenant } from '../tenant-site';

/**
 * OAuth 2.0 Authorization Server Metadata (RFC 8414) for the tenant at this Host, as Mastodon 4.3
 * publishes it, so that apps find the endpoints, the scopes and PKCE without guessing. Only what this
 * server does is announced: the code flow with S256, client credentials and refresh tokens.
 */
@ApiTags('oauth')
@Controller('.well-known')
export class OAuthMetadataController {
  constructor(@Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig) {}

  @Get('oauth-authorization-server')
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Cache-Control', 'public, max-age=3600')
  @ApiOperation({
    summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
    externalDocs: { url: 'https://docs.joinmastodon.org/spec/oauth/#authorization-server-metadata' },
  })
  @ApiOkResponse({ description: 'Authorization server metadata' })
  metadata(@CurrentTenant() tenant: TenantAtHost) {
    const url = (path: string) => publicUrl(this.config, tenant.primaryDomain, path);
    return {
      issuer: `${publicOrigin(this.config, tenant.primaryDomain)}/`,
      service_documentation: 'https://docs.joinmastodon.org/',
      authorization_endpoint: url('/oauth/authorize'),
      token_endpoint: url('/oauth/token'),
      app_registration_endpoint: url('/api/v1/apps'),
      revocation_endpoint: url('/oauth/revoke'),
      scopes_supported: [...KNOWN_SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  }
}
