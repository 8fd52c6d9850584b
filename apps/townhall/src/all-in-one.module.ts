import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@townhall/auth';
import type { TownhallConfig } from '@townhall/core';
import { ObservabilityModule, PlatformModule } from '@townhall/platform';
import { ProvisioningModule } from '@townhall/provisioning';
import { TenancyModule } from '@townhall/tenancy';
import { ControlPlaneModule } from '../../control-plane/src/control-plane.module';
import { FederationGatewayModule } from '../../federation-gateway/src/federation-gateway.module';
import { InstanceModule } from '../../instance/src/instance.module';
import { DemoTenant } from './demo-tenant';

/**
 * The three apps in one process on one port. Their routes do not collide: the operator API lives under
 * /api/platform, the gateway under /.well-known and /nodeinfo (and later /users, /inbox), the instance
 * under /api/v1 and /api/v2; health and metrics are mounted once.
 */
@Module({})
export class AllInOneModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: AllInOneModule,
      imports: [
        PlatformModule.forRoot(config),
        ObservabilityModule,
        AuthModule,
        TenancyModule,
        ControlPlaneModule,
        FederationGatewayModule,
        InstanceModule,
        ProvisioningModule,
      ],
      providers: [DemoTenant],
    };
  }
}
