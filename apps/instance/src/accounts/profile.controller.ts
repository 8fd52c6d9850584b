import { Controller, Delete, HttpCode, Inject, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { isUploadedFile, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import {
  AccountQueries,
  ProfileCommands,
  type ProfileChange,
  Relationships,
  StatusError,
} from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { AccountPresenter, type MastodonCredentialAccount } from '../presenters/account.presenter';
import { railsBoolean } from '../params';
import { relationshipEntity } from '../presenters/relationship.presenter';
import { CurrentTenant } from '../tenant-site';

/**
 * The signed-in account's own profile and who may follow it: `update_credentials` (JSON, form or
 * multipart with `avatar` and `header` files, Rails' `fields_attributes[0][name]` and `source[privacy]`),
 * removing the pictures, and answering follow requests.
 */
@ApiTags('accounts')
@Controller('api/v1')
export class ProfileController {
  constructor(
    private readonly profile: ProfileCommands,
    private readonly accounts: AccountQueries,
    private readonly relationships: Relationships,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Patch('accounts/update_credentials')
  @Authenticated('write:accounts')
  @ApiConsumes('multipart/form-data', 'application/json', 'application/x-www-form-urlencoded')
  @ApiOperation({
    summary:
      'Update account credentials: names, bio, fields, pictures, locked, bot, discoverable, posting defaults',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#update_credentials' },
  })
  @ApiOkResponse({ description: 'CredentialAccount' })
  @ApiResponse({ status: 422, description: 'A field breaks its rule; nothing was changed' })
  async updateCredentials(
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonCredentialAccount> {
    await this.profile.update(
      access.accountId,
      profileChange((request.body ?? {}) as Record<string, unknown>),
    );
    return this.credentials(access, tenant);
  }

  @Delete('profile/avatar')
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Remove the avatar',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/profile/#delete-profile-avatar' },
  })
  async deleteAvatar(@CurrentAccess() access: UserAccess, @CurrentTenant() tenant: TenantAtHost) {
    await this.profile.removeImage(access.accountId, 'avatar');
    return this.credentials(access, tenant);
  }

  @Delete('profile/header')
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Remove the header image',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/profile/#delete-profile-header' },
  })
  async deleteHeader(@CurrentAccess() access: UserAccess, @CurrentTenant() tenant: TenantAtHost) {
    await this.profile.removeImage(access.accountId, 'header');
    return this.credentials(access, tenant);
  }

  @Post('follow_requests/:id/authorize')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Accept a follow request',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/follow_requests/#accept' },
  })
  async authorize(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.authorizeRequest(access.accountId, checkedId(id)));
  }

  @Post('follow_requests/:id/reject')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Reject a follow request',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/follow_requests/#reject' },
  })
  async reject(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.rejectRequest(access.accountId, checkedId(id)));
  }

  private async credentials(access: UserAccess, tenant: TenantAtHost): Promise<MastodonCredentialAccount> {
    const { account, login } = await this.accounts.own(access.accountId);
    return new AccountPresenter(this.config, tenant.primaryDomain).credentialAccount(account, login);
  }
}

function checkedId(id: string): string {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  return id;
}

/**
 * The body of `update_credentials` as Mastodon reads it: booleans as Rails reads them, fields as a list
 * or as an object keyed by index, files from a multipart body. A field of the wrong type is refused.
 */
export function profileChange(body: Record<string, unknown>): ProfileChange {
  const problems: string[] = [];
  const text = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    problems.push(`${name} must be text`);
    return undefined;
  };
  const bool = (value: unknown, name: string): boolean | undefined => {
    if (value === undefined || value === null) return undefined;
    const read = railsBoolean(value);
    if (typeof read === 'boolean') return read;
    problems.push(`${name} must be true or false`);
    return undefined;
  };
  const file = (value: unknown, name: string): Buffer | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    if (isUploadedFile(value)) return value.data;
    problems.push(`${name} must be a file`);
    return undefined;
  };
  const rawFields = body.fields_attributes;
  let fields: ProfileChange['fields'];
  if (rawFields !== undefined) {
    const list = Array.isArray(rawFields)
      ? rawFields
      : typeof rawFields === 'object' && rawFields !== null
        ? Object.entries(rawFields)
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([, v]) => v as unknown)
        : null;
    if (list === null || list.length > 16 || list.some((f) => typeof f !== 'object' || f === null)) {
      problems.push('fields_attributes must be a list of name and value pairs');
    } else {
      fields = list.map((f, i) => ({
        name: text((f as Record<string, unknown>).name, `fields_attributes[${i}][name]`),
        value: text((f as Record<string, unknown>).value, `fields_attributes[${i}][value]`),
      }));
    }
  }
  const source =
    typeof body.source === 'object' && body.source !== null ? (body.source as Record<string, unknown>) : {};
  const change: ProfileChange = {
    displayName: text(body.display_name, 'display_name'),
    note: text(body.note, 'note'),
    locked: bool(body.locked, 'locked'),
    bot: bool(body.bot, 'bot'),
    discoverable: bool(body.discoverable, 'discoverable'),
    hideCollections: bool(body.hide_collections, 'hide_collections'),
    indexable: bool(body.indexable, 'indexable'),
    fields,
    avatar: file(body.avatar, 'avatar'),
    header: file(body.header, 'header'),
    source: {
      privacy: text(source.privacy, 'source[privacy]'),
      sensitive: bool(source.sensitive, 'source[sensitive]'),
      language: text(source.language, 'source[language]'),
    },
  };
  if (problems.length > 0)
    throw new StatusError('validation_failed', `Validation failed: ${problems.join(', ')}`);
  return change;
}
