import type { INestApplication } from '@nestjs/common';
import { mountOpenApi } from '@townhall/core';
import { RegulatorApiModule } from './regulator-api.module';

export const REGULATOR_DOCS_PATH = '/api/regulator/docs';

/** The regulator API's own OpenAPI document at /api/regulator/docs (JSON at …/openapi.json). */
export function mountRegulatorOpenApi(app: INestApplication): void {
  mountOpenApi(app, {
    path: REGULATOR_DOCS_PATH,
    title: 'Townhall regulator API',
    description:
      'Read-only access to the tamper-evident audit log for regulators: signed checkpoints, the signing keys, ' +
      'and exports that verify offline (townhall audit verify; format in docs/audit-format.md). Every ' +
      'endpoint needs a regulator token (Authorization: Bearer thrg_…) issued by the platform operator, and is ' +
      'rate limited; errors are RFC 9457 problem details (application/problem+json).',
    include: [RegulatorApiModule],
    bearer: true,
  });
}
