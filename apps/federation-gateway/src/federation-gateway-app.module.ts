import { DynamicModule, Module } from '@nestjs/common';
import type { TownhallConfig } from '@townhall/core';
import { ObservabilityModule, PlatformModule } from '@townhall/platform';
import { FederationGatewayModule } from './federation-gateway.module';

/** Root module of the standalone federation-gateway process. */
@Module({})
export class FederationGatewayAppModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: FederationGatewayAppModule,
      imports: [PlatformModule.forRoot(config), ObservabilityModule, FederationGatewayModule],
    };
  }
}
