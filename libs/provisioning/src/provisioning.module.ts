import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';
import { ActorKeyPool } from './actor-key-pool';
import { ProvisioningSaga } from './provisioning-saga';
import { PROVISIONING_QUEUE } from './provisioning.queue';
import { ProvisioningWorker } from './provisioning.worker';
import { TenantLifecycle } from './tenant-lifecycle';
import { TenantSchemaDropper } from './tenant-schema-dropper';

@Module({
  imports: [TenancyModule, BullModule.registerQueue({ name: PROVISIONING_QUEUE })],
  providers: [ActorKeyPool, ProvisioningSaga, TenantLifecycle, TenantSchemaDropper, ProvisioningWorker],
  exports: [ActorKeyPool, TenantLifecycle, ProvisioningSaga, ProvisioningWorker],
})
export class ProvisioningModule {}
