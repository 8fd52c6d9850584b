import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TENANCY_ENTITIES } from './tenant.entity';
import { TenantChanges, TenantDirectory } from './tenant-directory';
import { TenantMigrationRunner } from './tenant-migration-runner';
import { TenantRegistry } from './tenant-registry';
import { TenantRequestHooks } from './tenant-request-hooks';
import { TenantTransactions } from './tenant-transactions';

@Module({
  imports: [TypeOrmModule.forFeature(TENANCY_ENTITIES)],
  providers: [
    TenantRegistry,
    TenantTransactions,
    TenantDirectory,
    TenantChanges,
    TenantRequestHooks,
    TenantMigrationRunner,
  ],
  exports: [
    TenantRegistry,
    TenantTransactions,
    TenantDirectory,
    TenantChanges,
    TenantMigrationRunner,
    TypeOrmModule,
  ],
})
export class TenancyModule {}
