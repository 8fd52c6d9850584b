import { INestApplication } from '@nestjs/common';
import { TownhallConfig } from '@townhall/core';
import { ControlPlaneAppModule } from '../../apps/control-plane/src/control-plane-app.module';
import { mountControlPlaneOpenApi } from '../../apps/control-plane/src/openapi';
import { startHttpApp } from './instance-support';

export { expectProblem } from './instance-support';

/** A control-plane app as its process builds it: root module, shared HTTP hardening, OpenAPI document. */
export function startControlPlane(config: TownhallConfig): Promise<INestApplication> {
  return startHttpApp(ControlPlaneAppModule.forRoot(config), mountControlPlaneOpenApi);
}
