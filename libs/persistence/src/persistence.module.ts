import { BullModule } from '@nestjs/bull';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { TownhallConfig } from '@townhall/core';
import { dataSourceOptions } from './database';

/**
 * Where state lives: the one TypeORM DataSource (entities are contributed by each library through
 * `TypeOrmModule.forFeature`) and the Bull connection to Redis.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), autoLoadEntities: true }),
        BullModule.forRoot({
          redis: config.redis.url,
          prefix: config.redis.keyPrefix,
          settings: {
            lockDuration: config.queue.lockDurationMs,
            stalledInterval: config.queue.stalledIntervalMs,
            maxStalledCount: 10,
          },
        }),
      ],
    };
  }
}
