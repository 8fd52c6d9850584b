import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TenancyModule, TenantResolverMiddleware } from '@townhall/tenancy';
import { DiscoveryController } from './discovery/discovery.controller';
import { NodeDescriptionService } from './discovery/node-description.service';

/** The ActivityPub edge of every tenant domain: WebFinger, NodeInfo, host-meta, actors, inboxes. */
@Module({
  imports: [TenancyModule],
  controllers: [DiscoveryController],
  providers: [NodeDescriptionService],
})
export class FederationGatewayModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TenantResolverMiddleware).forRoutes(DiscoveryController);
  }
}
