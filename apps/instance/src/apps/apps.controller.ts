import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import {
  Authenticated,
  type ClientAccess,
  ClientAuthError,
  CurrentAccess,
  OAuthService,
  type OAuthApplication,
} from '@townhall/auth';
import { MastodonParams } from '@townhall/core';

/** The parameters of POST /api/v1/apps, as JSON or a form. */
@MastodonParams()
export class CreateApplicationParams {
  @IsString()
  @MaxLength(200)
  client_name: string;

  /** One URI, several separated by white space (as Doorkeeper reads them), or an array. */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value,
  )
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(2000, { each: true })
  redirect_uris: string[];

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  scopes?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  website?: string;
}

/** Mastodon's Application entity; with the client's credentials when it was just registered. */
function application(app: OAuthApplication, clientSecret?: string) {
  return {
    id: app.id,
    name: app.name,
    website: app.website,
    scopes: app.scopes,
    redirect_uri: app.redirectUris.join('\n'),
    redirect_uris: app.redirectUris,
    // Web Push is not offered yet; Mastodon sends its server key here.
    vapid_key: '',
    ...(clientSecret !== undefined
      ? { client_id: app.clientId, client_secret: clientSecret, client_secret_expires_at: 0 }
      : {}),
  };
}

@ApiTags('apps')
@Controller('api/v1/apps')
export class AppsController {
  constructor(private readonly oauth: OAuthService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Register a client application',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/apps/#create' },
  })
  @ApiOkResponse({
    description: 'CredentialApplication: the application with its client_id and client_secret',
  })
  async create(@Body() params: CreateApplicationParams) {
    const { application: app, clientSecret } = await this.oauth.registerApplication({
      clientName: params.client_name,
      redirectUris: params.redirect_uris,
      scopes: params.scopes,
      website: params.website ? params.website : null,
    });
    return application(app, clientSecret);
  }

  @Get('verify_credentials')
  @Authenticated('', { app: true })
  @ApiOperation({
    summary: 'Verify the application of the token',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/apps/#verify_credentials' },
  })
  async verify(@CurrentAccess() access: ClientAccess) {
    const app = access.applicationId ? await this.oauth.application(access.applicationId) : null;
    if (!app) throw new ClientAuthError('invalid_token', 'The access token is invalid');
    return application(app);
  }
}
