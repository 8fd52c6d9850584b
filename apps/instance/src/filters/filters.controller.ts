import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { Filters } from '@townhall/social';
import {
  filterEntity,
  filterKeywordEntity,
  filterStatusEntity,
  type MastodonFilter,
  type MastodonFilterKeyword,
  type MastodonFilterStatus,
  type MastodonV1Filter,
  v1FilterEntity,
} from '../presenters/filter.presenter';
import { filterInput, keywordInput, statusIdOf, v1FilterInput } from './filter-params';

const BODIES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'] as const;
const docs = (anchor: string) => ({ url: `https://docs.joinmastodon.org/methods/filters/#${anchor}` });

/** What Rails calls `params`: the query string's fields with the body's over them, as Mastodon reads them. */
function params(request: FastifyRequest): Record<string, unknown> {
  const object = (value: unknown) => (typeof value === 'object' && value !== null ? value : {});
  return { ...object(request.query), ...object(request.body) };
}

/**
 * Filters v2 (Mastodon 4.0+): filters with their keywords and statuses, each reachable on its own
 * (`/api/v2/filters/keywords/:id`, `/api/v2/filters/statuses/:id`). Bodies as JSON, form or query
 * string, with Rails' `keywords_attributes[][keyword]`. Only the signed-in user's own filters exist
 * for them; another's is not found.
 */
@ApiTags('filters')
@Controller('api/v2/filters')
export class FiltersController {
  constructor(private readonly filters: Filters) {}

  @Get()
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View all filters', externalDocs: docs('get') })
  @ApiOkResponse({ description: 'Array of Filter, with keywords and statuses' })
  async list(@CurrentAccess() access: UserAccess): Promise<MastodonFilter[]> {
    return (await this.filters.list(access.accountId)).map(filterEntity);
  }

  @Post()
  @HttpCode(200)
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({
    summary: 'Create a filter: title, context[], filter_action, expires_in, keywords_attributes[]',
    externalDocs: docs('create'),
  })
  @ApiOkResponse({ description: 'Filter' })
  @ApiResponse({ status: 422, description: 'A field breaks its rule; nothing was created' })
  async create(@Req() request: FastifyRequest, @CurrentAccess() access: UserAccess): Promise<MastodonFilter> {
    return filterEntity(await this.filters.create(access.accountId, filterInput(params(request))));
  }

  // The keyword and status paths come before `:id`, which would otherwise take "keywords" as an id.

  @Get('keywords/:id')
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View a single keyword', externalDocs: docs('keywords-get-one') })
  @ApiOkResponse({ description: 'FilterKeyword' })
  async keyword(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterKeyword> {
    return filterKeywordEntity(await this.filters.keyword(access.accountId, id));
  }

  @Put('keywords/:id')
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({ summary: 'Edit a keyword within a filter', externalDocs: docs('keywords-update') })
  @ApiOkResponse({ description: 'FilterKeyword' })
  @ApiResponse({ status: 422, description: 'The keyword is blank; nothing was changed' })
  async updateKeyword(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterKeyword> {
    return filterKeywordEntity(
      await this.filters.updateKeyword(access.accountId, id, keywordInput(params(request))),
    );
  }

  @Delete('keywords/:id')
  @Authenticated('write:filters')
  @ApiOperation({ summary: 'Remove a keyword from a filter', externalDocs: docs('keywords-delete') })
  @ApiOkResponse({ description: 'An empty object' })
  async removeKeyword(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<object> {
    await this.filters.removeKeyword(access.accountId, id);
    return {};
  }

  @Get('statuses/:id')
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View a single status filter', externalDocs: docs('statuses-get-one') })
  @ApiOkResponse({ description: 'FilterStatus' })
  async status(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<MastodonFilterStatus> {
    return filterStatusEntity(await this.filters.status(access.accountId, id));
  }

  @Delete('statuses/:id')
  @Authenticated('write:filters')
  @ApiOperation({ summary: 'Remove a status from a filter', externalDocs: docs('statuses-remove') })
  @ApiOkResponse({ description: 'An empty object' })
  async removeStatus(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<object> {
    await this.filters.removeStatus(access.accountId, id);
    return {};
  }

  @Get(':id')
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View a specific filter', externalDocs: docs('get-one') })
  @ApiOkResponse({ description: 'Filter, with keywords and statuses' })
  async get(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<MastodonFilter> {
    return filterEntity(await this.filters.get(access.accountId, id));
  }

  @Put(':id')
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({
    summary:
      'Update a filter; keywords_attributes[] adds keywords, changes them (with id) or removes them (id, _destroy)',
    externalDocs: docs('update'),
  })
  @ApiOkResponse({ description: 'Filter' })
  @ApiResponse({ status: 404, description: 'Not a filter of yours, or a keyword id not of this filter' })
  @ApiResponse({ status: 422, description: 'A field breaks its rule; nothing was changed' })
  async update(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilter> {
    return filterEntity(await this.filters.update(access.accountId, id, filterInput(params(request))));
  }

  @Delete(':id')
  @Authenticated('write:filters')
  @ApiOperation({ summary: 'Delete a filter with its keywords and statuses', externalDocs: docs('delete') })
  @ApiOkResponse({ description: 'An empty object' })
  async remove(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<object> {
    await this.filters.remove(access.accountId, id);
    return {};
  }

  @Get(':filter_id/keywords')
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View keywords added to a filter', externalDocs: docs('keywords-get') })
  @ApiOkResponse({ description: 'Array of FilterKeyword' })
  async keywords(
    @Param('filter_id') filterId: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterKeyword[]> {
    return (await this.filters.keywords(access.accountId, filterId)).map(filterKeywordEntity);
  }

  @Post(':filter_id/keywords')
  @HttpCode(200)
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({ summary: 'Add a keyword to a filter', externalDocs: docs('keywords-create') })
  @ApiOkResponse({ description: 'FilterKeyword' })
  @ApiResponse({
    status: 422,
    description: 'The keyword is blank, or the filter has too many; nothing was added',
  })
  async addKeyword(
    @Param('filter_id') filterId: string,
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterKeyword> {
    return filterKeywordEntity(
      await this.filters.addKeyword(access.accountId, filterId, keywordInput(params(request))),
    );
  }

  @Get(':filter_id/statuses')
  @Authenticated('read:filters')
  @ApiOperation({ summary: 'View all status filters', externalDocs: docs('statuses-get') })
  @ApiOkResponse({ description: 'Array of FilterStatus' })
  async statuses(
    @Param('filter_id') filterId: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterStatus[]> {
    return (await this.filters.statuses(access.accountId, filterId)).map(filterStatusEntity);
  }

  @Post(':filter_id/statuses')
  @HttpCode(200)
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({ summary: 'Add a status to a filter', externalDocs: docs('statuses-add') })
  @ApiOkResponse({ description: 'FilterStatus' })
  @ApiResponse({ status: 422, description: 'Not a status you can see, or already in the filter' })
  async addStatus(
    @Param('filter_id') filterId: string,
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonFilterStatus> {
    return filterStatusEntity(
      await this.filters.addStatus(access.accountId, filterId, statusIdOf(params(request))),
    );
  }
}

/**
 * The deprecated filters v1 API, which older apps still use, mapped onto v2 filters as Mastodon maps it:
 * each v1 filter is one keyword of a filter (its id is the keyword's); creating one makes a filter titled
 * with the phrase; `irreversible` is the `hide` action.
 */
@ApiTags('filters')
@Controller('api/v1/filters')
export class V1FiltersController {
  constructor(private readonly filters: Filters) {}

  @Get()
  @Authenticated('read:filters')
  @ApiOperation({
    summary: 'View your filters (v1, deprecated)',
    externalDocs: docs('get-v1'),
    deprecated: true,
  })
  @ApiOkResponse({ description: 'Array of V1::Filter, one per keyword' })
  async list(@CurrentAccess() access: UserAccess): Promise<MastodonV1Filter[]> {
    return (await this.filters.v1List(access.accountId)).map(v1FilterEntity);
  }

  @Post()
  @HttpCode(200)
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({
    summary: 'Create a filter (v1, deprecated): phrase, context[], irreversible, whole_word, expires_in',
    externalDocs: docs('create-v1'),
    deprecated: true,
  })
  @ApiOkResponse({ description: 'V1::Filter' })
  @ApiResponse({ status: 422, description: 'A field breaks its rule; nothing was created' })
  async create(
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonV1Filter> {
    return v1FilterEntity(await this.filters.v1Create(access.accountId, v1FilterInput(params(request))));
  }

  @Get(':id')
  @Authenticated('read:filters')
  @ApiOperation({
    summary: 'View a single filter (v1, deprecated)',
    externalDocs: docs('get-one-v1'),
    deprecated: true,
  })
  @ApiOkResponse({ description: 'V1::Filter' })
  async get(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<MastodonV1Filter> {
    return v1FilterEntity(await this.filters.v1Get(access.accountId, id));
  }

  @Put(':id')
  @Authenticated('write:filters')
  @ApiConsumes(...BODIES)
  @ApiOperation({
    summary:
      'Update a filter (v1, deprecated); its context, action and expiry only while no other keyword shares it',
    externalDocs: docs('update-v1'),
    deprecated: true,
  })
  @ApiOkResponse({ description: 'V1::Filter' })
  @ApiResponse({
    status: 422,
    description: 'A field breaks its rule, or the change would touch other keywords',
  })
  async update(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonV1Filter> {
    return v1FilterEntity(await this.filters.v1Update(access.accountId, id, v1FilterInput(params(request))));
  }

  @Delete(':id')
  @Authenticated('write:filters')
  @ApiOperation({
    summary: 'Remove a filter (v1, deprecated): the keyword only; its v2 filter stays',
    externalDocs: docs('delete-v1'),
    deprecated: true,
  })
  @ApiOkResponse({ description: 'An empty object' })
  async remove(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<object> {
    await this.filters.v1Remove(access.accountId, id);
    return {};
  }
}
