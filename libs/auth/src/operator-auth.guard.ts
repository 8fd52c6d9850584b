import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from './bearer-auth.guard';
import { OperatorEntity } from './operator.entity';
import { OPERATOR_REALM, OPERATOR_STRATEGY } from './operator-bearer.strategy';

export type OperatorRequest = FastifyRequest & { user?: OperatorEntity };

/** Requires a valid operator token in the `Authorization: Bearer` header (see BearerAuthGuard). */
@Injectable()
export class OperatorAuthGuard extends BearerAuthGuard({
  strategy: OPERATOR_STRATEGY,
  realm: OPERATOR_REALM,
  identity: OperatorEntity,
  tokenName: 'a valid operator token',
}) {}
