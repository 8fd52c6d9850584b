import { Module } from '@nestjs/common';
import { ProvisioningModule } from '@townhall/provisioning';
import { TenancyModule } from '@townhall/tenancy';

/** The operator API (`/api/platform/v1`) and the workers that carry out its long-running work. */
@Module({
  imports: [TenancyModule, ProvisioningModule],
  controllers: [],
})
export class ControlPlaneModule {}
