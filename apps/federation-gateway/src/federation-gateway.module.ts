import { Module } from '@nestjs/common';
import { TenancyModule } from '@townhall/tenancy';

/** The ActivityPub edge of every tenant domain: WebFinger, NodeInfo, host-meta, actors, inboxes. */
@Module({
  imports: [TenancyModule],
  controllers: [],
})
export class FederationGatewayModule {}
