import { DynamicModule, Module } from '@nestjs/common';
import type { TownhallConfig } from '@townhall/core';
import { ObservabilityModule, PlatformModule } from '@townhall/platform';
import { ControlPlaneModule } from './control-plane.module';

/** Root module of the standalone control-plane process. */
@Module({})
export class ControlPlaneAppModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: ControlPlaneAppModule,
      imports: [PlatformModule.forRoot(config), ObservabilityModule, ControlPlaneModule],
    };
  }
}
