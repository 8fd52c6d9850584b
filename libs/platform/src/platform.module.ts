import { DynamicModule, Module } from '@nestjs/common';
import { AuditPeriodKeysModule, AuditRecordingModule, AuditStoreModule } from '@townhall/compliance';
import { CoreModule, TownhallConfig } from '@townhall/core';
import { PersistenceModule } from '@townhall/persistence';
import { RotateSecretKey } from './secret-key';

/**
 * The shared runtime every app process starts with: configuration and logging, the database and the
 * queue connection, the audit log, and rotation of the platform's secret key. Apps add their feature
 * modules next to it.
 */
@Module({})
export class PlatformModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        CoreModule.forRoot(config),
        PersistenceModule.forRoot(config),
        AuditStoreModule,
        AuditRecordingModule,
        AuditPeriodKeysModule,
      ],
      providers: [RotateSecretKey],
      exports: [RotateSecretKey],
    };
  }
}
