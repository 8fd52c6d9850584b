import { Module } from '@nestjs/common';
import { AuthModule } from '@townhall/auth';
import { ProvisioningModule } from '@townhall/provisioning';
import { TenancyModule } from '@townhall/tenancy';
import { BootstrapOperator } from './bootstrap-operator';
import { OperatorActionInterceptor } from './operator-action.interceptor';
import { OPERATOR_RATE_LIMIT_PROVIDERS } from './operator-rate-limit';
import { TenantsController } from './tenants/tenants.controller';

/**
 * The operator API (`/api/platform/v1`, bearer operator tokens, rate limited in Redis) and the workers
 * that carry out its long-running work. Mounted alone by the control-plane process and next to the
 * other apps by the all-in-one process.
 */
@Module({
  imports: [AuthModule, TenancyModule, ProvisioningModule],
  controllers: [TenantsController],
  providers: [...OPERATOR_RATE_LIMIT_PROVIDERS, OperatorActionInterceptor, BootstrapOperator],
})
export class ControlPlaneModule {}
