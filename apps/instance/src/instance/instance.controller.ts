import { applyDecorators, Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InstanceService } from './instance.service';
import { MISSING_AVATAR_PATH, MISSING_HEADER_PATH } from '../presenters/account.presenter';
import { THUMBNAIL_PATH } from './mastodon-instance';

/** Any browser-based client may read these public documents; no credentials are involved. */
const PublicDocument = () =>
  applyDecorators(
    Header('Access-Control-Allow-Origin', '*'),
    Header('Cache-Control', 'public, max-age=180'),
    // The service hands over the document already serialised.
    Header('Content-Type', 'application/json; charset=utf-8'),
  );

/** A neutral 1×1 image until tenants and accounts can upload pictures; clients scale it to fit. */
const PLACEHOLDER_THUMBNAIL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mPQ9qkDAAGbAPbbWsHzAAAAAElFTkSuQmCC',
  'base64',
);

@ApiTags('instance')
@ApiResponse({ status: 404, description: 'No instance at this address (problem details).' })
@ApiResponse({
  status: 503,
  description: 'The instance is suspended or not yet available (problem details).',
})
@Controller()
export class InstanceController {
  constructor(private readonly instance: InstanceService) {}

  @Get('api/v2/instance')
  @PublicDocument()
  @ApiOperation({
    summary: 'View server information',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/instance/#v2' },
  })
  @ApiOkResponse({ description: 'Mastodon Instance entity (v2) of the instance at this Host.' })
  v2(): Promise<string> {
    return this.instance.describeV2();
  }

  @Get('api/v1/instance')
  @PublicDocument()
  @ApiOperation({
    summary: 'View server information (v1, deprecated by Mastodon in favour of v2)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/instance/#v1' },
  })
  @ApiOkResponse({ description: 'Mastodon V1::Instance entity of the instance at this Host.' })
  v1(): Promise<string> {
    return this.instance.describeV1();
  }

  @Get([THUMBNAIL_PATH.slice(1), MISSING_AVATAR_PATH.slice(1), MISSING_HEADER_PATH.slice(1)])
  @ApiExcludeEndpoint()
  thumbnail(@Res() res: FastifyReply): void {
    // Web clients on other origins show it in an <img>; helmet's default would block that.
    res
      .header('Cross-Origin-Resource-Policy', 'cross-origin')
      .header('Cache-Control', 'public, max-age=86400')
      .type('image/png')
      .send(PLACEHOLDER_THUMBNAIL);
  }
}
