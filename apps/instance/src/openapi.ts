import type { INestApplication } from '@nestjs/common';
import { mountOpenApi } from '@townhall/core';
import { InstanceModule } from './instance.module';

export const INSTANCE_DOCS_PATH = '/api/docs';

/** The client API's OpenAPI document at /api/docs (JSON at …/openapi.json), in any process that mounts the instance app. */
export function mountInstanceOpenApi(app: INestApplication): void {
  mountOpenApi(app, {
    path: INSTANCE_DOCS_PATH,
    title: 'Townhall instance API',
    description:
      'The Mastodon-compatible client API of the instance at the request’s Host (see docs.joinmastodon.org). ' +
      'Errors of the platform itself are RFC 9457 problem details (application/problem+json).',
    include: [InstanceModule],
  });
}
