import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TENANCY_ENTITIES } from './tenant.entity';
import { TenantRegistry } from './tenant-registry';
import { TenantResolverMiddleware } from './tenant-resolver.middleware';
import { TenantTransactions } from './tenant-transactions';

@Module({
  imports: [TypeOrmModule.forFeature(TENANCY_ENTITIES)],
  providers: [TenantRegistry, TenantTransactions, TenantResolverMiddleware],
  exports: [TenantRegistry, TenantTransactions, TenantResolverMiddleware, TypeOrmModule],
})
export class TenancyModule {}
