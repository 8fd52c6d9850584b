import { Module } from '@nestjs/common';
import { SocialModule } from '@townhall/social';
import { TenancyModule } from '@townhall/tenancy';
import { DiscoveryController } from './discovery/discovery.controller';
import { NodeDescriptionService } from './discovery/node-description.service';

/** The ActivityPub edge of every tenant domain: WebFinger, NodeInfo, host-meta, actors, inboxes. */
@Module({
  imports: [TenancyModule, SocialModule],
  controllers: [DiscoveryController],
  providers: [NodeDescriptionService],
})
export class FederationGatewayModule {}
