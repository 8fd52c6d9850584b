import type { INestApplication } from '@nestjs/common';
import { mountOpenApi } from '@townhall/core';
import { FederationGatewayModule } from './federation-gateway.module';

export const GATEWAY_DOCS_PATH = '/api/federation/docs';

/** The gateway's OpenAPI document at /api/federation/docs (JSON at …/openapi.json), in any process that mounts the gateway. */
export function mountGatewayOpenApi(app: INestApplication): void {
  mountOpenApi(app, {
    path: GATEWAY_DOCS_PATH,
    title: 'Townhall federation gateway',
    description:
      'The server-to-server edge of every tenant domain: discovery documents (NodeInfo, host-meta, WebFinger), ' +
      'actors and their collections and, as they land, inboxes. Answers for the instance at the request’s Host; ' +
      'errors are RFC 9457 problem details.',
    include: [FederationGatewayModule],
  });
}
