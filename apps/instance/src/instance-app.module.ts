import { DynamicModule, Module } from '@nestjs/common';
import type { TownhallConfig } from '@townhall/core';
import { ObservabilityModule, PlatformModule } from '@townhall/platform';
import { InstanceModule } from './instance.module';

/** Root module of the standalone instance process. */
@Module({})
export class InstanceAppModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: InstanceAppModule,
      imports: [PlatformModule.forRoot(config), ObservabilityModule, InstanceModule],
    };
  }
}
