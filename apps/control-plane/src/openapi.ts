import type { INestApplication } from '@nestjs/common';
import { mountOpenApi } from '@townhall/core';
import { ControlPlaneModule } from './control-plane.module';
import { mountRegulatorOpenApi } from './regulator-api/openapi';

export const CONTROL_PLANE_DOCS_PATH = '/api/platform/docs';

/**
 * The operator API's OpenAPI document at /api/platform/docs (JSON at …/openapi.json), and the regulator
 * API's at /api/regulator/docs, in any process that mounts the control plane.
 */
export function mountControlPlaneOpenApi(app: INestApplication): void {
  mountOpenApi(app, {
    path: CONTROL_PLANE_DOCS_PATH,
    title: 'Townhall operator API',
    description:
      "Provision, suspend, resume and delete tenants; issue and revoke regulator tokens; sign audit checkpoints on demand and erase people from the audit log's personal-data side table. Every endpoint but the public audit keys needs an operator token (Authorization: Bearer …); all are rate limited; " +
      'errors are RFC 9457 problem details (application/problem+json).',
    include: [ControlPlaneModule],
    bearer: true,
  });
  mountRegulatorOpenApi(app);
}
