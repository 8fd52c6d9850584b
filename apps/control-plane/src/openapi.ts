import type { INestApplication } from '@nestjs/common';
import { mountOpenApi } from '@townhall/core';
import { ControlPlaneModule } from './control-plane.module';

export const CONTROL_PLANE_DOCS_PATH = '/api/platform/docs';

/** The operator API's OpenAPI document at /api/platform/docs (JSON at …/openapi.json), in any process that mounts the control plane. */
export function mountControlPlaneOpenApi(app: INestApplication): void {
  mountOpenApi(app, {
    path: CONTROL_PLANE_DOCS_PATH,
    title: 'Townhall operator API',
    description:
      'Provision, suspend, resume and delete tenants. Every endpoint needs an operator token (Authorization: Bearer …) and is rate limited; ' +
      'errors are RFC 9457 problem details (application/problem+json).',
    include: [ControlPlaneModule],
    bearer: true,
  });
}
