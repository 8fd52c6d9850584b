import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TENANCY_ENTITIES } from './tenant.entity';
import { TenantMigrationRunner } from './tenant-migration-runner';
import { TenantRegistry } from './tenant-registry';
import { TenantResolverMiddleware } from './tenant-resolver.middleware';
import { TenantTransactions } from './tenant-transactions';

@Module({
  imports: [TypeOrmModule.forFeature(TENANCY_ENTITIES)],
  providers: [TenantRegistry, TenantTransactions, TenantResolverMiddleware, TenantMigrationRunner],
  exports: [
    TenantRegistry,
    TenantTransactions,
    TenantResolverMiddleware,
    TenantMigrationRunner,
    TypeOrmModule,
  ],
})
export class TenancyModule {}
