import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt } from 'class-validator';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams } from '@townhall/core';
import { Polls } from '@townhall/social';
import { type MastodonPoll, presentPoll } from '../presenters/poll.presenter';

/** `choices[]=0&choices[]=2` (indices of the options), or one as `choices=1`. */
@MastodonParams()
export class VoteParams {
  @Transform(({ value }: { value: unknown }) =>
    (Array.isArray(value) ? value : [value]).map((v) =>
      typeof v === 'string' && /^\d{1,3}$/.test(v) ? Number(v) : v,
    ),
  )
  @IsArray()
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  choices: number[];
}

/** Polls of statuses (Mastodon's /api/v1/polls). */
@ApiTags('polls')
@Controller('api/v1/polls')
export class PollsController {
  constructor(private readonly polls: Polls) {}

  @Get(':id')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'View a poll',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/polls/#get' },
  })
  @ApiOkResponse({ description: 'Poll' })
  async get(
    @Param('id') id: string,
    @CurrentAccess() access: ClientAccess | undefined,
  ): Promise<MastodonPoll> {
    const viewer = access?.accountId ?? null;
    return presentPoll(await this.polls.get(viewer, id), viewer);
  }

  @Post(':id/votes')
  @HttpCode(200)
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Vote on a poll',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/polls/#vote' },
  })
  @ApiOkResponse({ description: 'Poll' })
  async vote(
    @Param('id') id: string,
    @Body() params: VoteParams,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonPoll> {
    return presentPoll(await this.polls.vote(access.accountId, id, params.choices), access.accountId);
  }
}
