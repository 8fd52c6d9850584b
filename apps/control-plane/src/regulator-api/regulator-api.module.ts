import { Module } from '@nestjs/common';
import { AuthModule } from '@townhall/auth';
import { TenancyModule } from '@townhall/tenancy';
import { OPERATOR_RATE_LIMIT_PROVIDERS } from '../operator-rate-limit';
import { RegulatorAuditContextInterceptor } from './regulator-audit-context.interceptor';
import { RegulatorAuditController } from './regulator-audit.controller';
import { RegulatorAuditExports } from './regulator-audit-exports';
import { RegulatorCheckpointsController } from './regulator-checkpoints.controller';
import { RegulatorRateLimitGuard } from './regulator-rate-limit';

/**
 * The regulator API (`/api/regulator/v1`, regulator bearer tokens, rate limited in Redis): checkpoints,
 * signing keys and audit exports. A module of its own so it has an OpenAPI document of its own.
 */
@Module({
  imports: [AuthModule, TenancyModule],
  controllers: [RegulatorCheckpointsController, RegulatorAuditController],
  // The limiter's options and Redis store, built here as the operator API builds its own.
  providers: [
    ...OPERATOR_RATE_LIMIT_PROVIDERS,
    RegulatorRateLimitGuard,
    RegulatorAuditContextInterceptor,
    RegulatorAuditExports,
  ],
})
export class RegulatorApiModule {}
