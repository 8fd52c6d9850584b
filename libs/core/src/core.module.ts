import { DynamicModule, Global, Module } from '@nestjs/common';
import { TOWNHALL_CONFIG, TownhallConfig } from './config';
import { createLogger, TownhallLogger } from './logging';
import { PlatformEvents } from './platform-events';
import { RedisConnection } from './redis-connection';
import { resolveSecretKey } from './secret-box';
import { SecretKeyring } from './secret-keyring';

/** Configuration, logging, secret handling and the Redis command connection, shared by every app. Imported once by each root module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: TOWNHALL_CONFIG, useValue: config },
        { provide: TownhallLogger, useFactory: () => new TownhallLogger(createLogger(config)) },
        { provide: SecretKeyring, useFactory: () => new SecretKeyring(resolveSecretKey(config)) },
        RedisConnection,
        PlatformEvents,
      ],
      exports: [TOWNHALL_CONFIG, TownhallLogger, SecretKeyring, RedisConnection, PlatformEvents],
    };
  }
}
