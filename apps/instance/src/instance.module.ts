import { Module } from '@nestjs/common';
import { SocialModule } from '@townhall/social';
import { TenancyModule } from '@townhall/tenancy';
import { InstanceController } from './instance/instance.controller';
import { InstanceService } from './instance/instance.service';

/** The tenant-facing Mastodon client API, routed by `Host`. */
@Module({
  imports: [TenancyModule, SocialModule],
  controllers: [InstanceController],
  providers: [InstanceService],
})
export class InstanceModule {}
