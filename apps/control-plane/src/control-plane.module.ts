import { Module } from '@nestjs/common';
import { AuthModule } from '@townhall/auth';
import { ProvisioningModule } from '@townhall/provisioning';
import { TenancyModule } from '@townhall/tenancy';
import { AuditKeysController } from './audit-keys.controller';
import { AuditCheckpointsController } from './audit/audit-checkpoints.controller';
import { AuditSubjectsController } from './audit/audit-subjects.controller';
import { PublicCheckpointsController } from './audit/public-checkpoints.controller';
import { BootstrapOperator } from './bootstrap-operator';
import { OperatorActionInterceptor } from './operator-action.interceptor';
import { OPERATOR_RATE_LIMIT_PROVIDERS } from './operator-rate-limit';
import { RegulatorApiModule } from './regulator-api/regulator-api.module';
import { RegulatorsController } from './regulators/regulators.controller';
import { TenantsController } from './tenants/tenants.controller';

/**
 * The operator API (`/api/platform/v1`, bearer operator tokens, rate limited in Redis), the regulator
 * API (`/api/regulator/v1`) and the workers that carry out their long-running work. Mounted alone by
 * the control-plane process and next to the other apps by the all-in-one process.
 */
@Module({
  imports: [AuthModule, TenancyModule, ProvisioningModule, RegulatorApiModule],
  controllers: [
    TenantsController,
    RegulatorsController,
    AuditKeysController,
    AuditCheckpointsController,
    AuditSubjectsController,
    PublicCheckpointsController,
  ],
  providers: [...OPERATOR_RATE_LIMIT_PROVIDERS, OperatorActionInterceptor, BootstrapOperator],
})
export class ControlPlaneModule {}
