import { applyDecorators, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { RegulatorAuthGuard } from '@townhall/auth';
import { ApiProblem, ApiProblems } from '../problem.view';
import { RegulatorAuditContextInterceptor } from './regulator-audit-context.interceptor';
import { RegulatorRateLimitGuard } from './regulator-rate-limit';

export const REGULATOR_API_PATH = '/api/regulator/v1';

/**
 * What every regulator API controller is: rate limit first (so token guessing is limited), then a
 * regulator token, then the audit context of the regulator for whatever the request records.
 */
export function RegulatorApi(): ClassDecorator {
  return applyDecorators(
    ApiBearerAuth(),
    ApiProblem(401, 'Missing, invalid, expired or revoked regulator token'),
    ApiProblems(429),
    UseGuards(RegulatorRateLimitGuard, RegulatorAuthGuard),
    UseInterceptors(RegulatorAuditContextInterceptor),
  );
}
