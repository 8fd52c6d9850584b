import { Module } from '@nestjs/common';
import { SocialModule } from '@townhall/social';
import { TenancyModule } from '@townhall/tenancy';
import { ActorsController } from './actors/actors.controller';
import { LocalActorKeys } from './actors/local-actor-keys';
import { LocalActorsRepository } from './actors/local-actors.repository';
import { LocalActorsService } from './actors/local-actors.service';
import { DiscoveryController } from './discovery/discovery.controller';
import { InstanceActorSigner, RemoteFetching } from './fetching/remote-fetching';
import { NodeDescriptionService } from './discovery/node-description.service';

/** The ActivityPub edge of every tenant domain: WebFinger, NodeInfo, host-meta, actors, inboxes. */
@Module({
  imports: [TenancyModule, SocialModule],
  controllers: [DiscoveryController, ActorsController],
  providers: [
    NodeDescriptionService,
    LocalActorsService,
    LocalActorsRepository,
    LocalActorKeys,
    RemoteFetching,
    InstanceActorSigner,
  ],
  exports: [RemoteFetching, InstanceActorSigner],
})
export class FederationGatewayModule {}
