import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ACTIVITY_JSON_UTF8, JRD_JSON, wantsActivityStreams } from '@townhall/activitypub';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LocalActorsService } from './local-actors.service';

/**
 * Actor and object URLs of local accounts. Each answers in ActivityStreams to a request that accepts
 * it and redirects anything else (a browser) to the public page of the instance app, `/@username`
 * (and `/@username/{id}` for a status): the two apps never serve the same path.
 */
@ApiTags('actors')
@ApiResponse({ status: 404, description: 'No such account or status here (problem details).' })
@Controller()
export class ActorsController {
  constructor(private readonly actors: LocalActorsService) {}

  @Get('.well-known/webfinger')
  @ApiOperation({ summary: 'WebFinger (RFC 7033): acct:user@domain or an actor URL → links to the actor' })
  @ApiProduces('application/jrd+json')
  async webfinger(@Query('resource') resource: string | undefined, @Res() res: FastifyReply): Promise<void> {
    const jrd = await this.actors.webfinger(resource);
    void res
      .header('content-type', JRD_JSON)
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'public, max-age=259200')
      .header('vary', 'Accept')
      .send(JSON.stringify(jrd));
  }

  @Get('actor')
  @ApiOperation({ summary: 'The instance actor of this tenant (signs the instance’s own fetches)' })
  @ApiProduces('application/activity+json')
  async instanceActor(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    return this.answer(req, res, () => this.actors.instanceActor(), '/about');
  }

  @Get('users/:username')
  @ApiOperation({ summary: 'An account as an ActivityPub actor (HTML requests go to /@username)' })
  @ApiProduces('application/activity+json')
  async actor(
    @Param('username') username: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(req, res, () => this.actors.actor(username), `/@${username}`);
  }

  @Get('users/:username/outbox')
  @ApiOperation({
    summary: 'The outbox: Create activities of public statuses, paged (page=true, max_id, min_id)',
  })
  async outbox(
    @Param('username') username: string,
    @Query('page') page: string | undefined,
    @Query('max_id') maxId: string | undefined,
    @Query('min_id') minId: string | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const cursor = { maxId, minId };
    return this.answer(
      req,
      res,
      () => this.actors.outbox(username, page === 'true', cursor),
      `/@${username}`,
    );
  }

  @Get('users/:username/followers')
  @ApiOperation({ summary: 'Followers: the count, and pages of actor ids unless hidden (page=N)' })
  async followers(
    @Param('username') username: string,
    @Query('page') page: string | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(
      req,
      res,
      () => this.actors.relations(username, 'followers', page),
      `/@${username}/followers`,
    );
  }

  @Get('users/:username/following')
  @ApiOperation({ summary: 'Followed accounts: the count, and pages of actor ids unless hidden (page=N)' })
  async following(
    @Param('username') username: string,
    @Query('page') page: string | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(
      req,
      res,
      () => this.actors.relations(username, 'following', page),
      `/@${username}/following`,
    );
  }

  @Get('users/:username/collections/featured')
  @ApiOperation({ summary: 'Pinned statuses as Notes' })
  async featured(
    @Param('username') username: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(req, res, () => this.actors.featured(username), `/@${username}`);
  }

  @Get('users/:username/statuses/:id')
  @ApiOperation({ summary: 'A public or unlisted status as a Note (HTML requests go to /@username/id)' })
  async status(
    @Param('username') username: string,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(req, res, () => this.actors.status(username, id, false), `/@${username}/${id}`);
  }

  @Get('users/:username/statuses/:id/activity')
  @ApiOperation({ summary: 'The Create activity of a public or unlisted status' })
  async statusActivity(
    @Param('username') username: string,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.answer(req, res, () => this.actors.status(username, id, true), `/@${username}/${id}`);
  }

  /**
   * ActivityStreams for a request that asks for it, else a redirect to the page people read. The
   * document is built first in both cases, so a browser is not sent to a page of nobody.
   */
  private async answer(
    req: FastifyRequest,
    res: FastifyReply,
    build: () => Promise<Record<string, unknown>>,
    htmlPath: string,
  ): Promise<void> {
    const document = await build();
    void res.header('vary', 'Accept');
    if (!wantsActivityStreams(req.headers.accept)) {
      void res.redirect(encodeURI(htmlPath), 302);
      return;
    }
    void res
      .header('content-type', ACTIVITY_JSON_UTF8)
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'public, max-age=180')
      .send(JSON.stringify(document));
  }
}
