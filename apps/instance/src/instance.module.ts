import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TenancyModule, TenantResolverMiddleware } from '@townhall/tenancy';
import { InstanceController } from './instance/instance.controller';
import { InstanceService } from './instance/instance.service';

/** The tenant-facing Mastodon client API, routed by `Host`. */
@Module({
  imports: [TenancyModule],
  controllers: [InstanceController],
  providers: [InstanceService],
})
export class InstanceModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TenantResolverMiddleware).forRoutes(InstanceController);
  }
}
