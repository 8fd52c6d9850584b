import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from './bearer-auth.guard';
import { REGULATOR_REALM, REGULATOR_STRATEGY } from './regulator-bearer.strategy';
import { Regulator } from './regulator-identity';

export type RegulatorRequest = FastifyRequest & { user?: Regulator };

/** Requires a valid regulator token in the `Authorization: Bearer` header (see BearerAuthGuard). */
@Injectable()
export class RegulatorAuthGuard extends BearerAuthGuard({
  strategy: REGULATOR_STRATEGY,
  realm: REGULATOR_REALM,
  identity: Regulator,
  tokenName: 'a valid regulator token',
}) {}
