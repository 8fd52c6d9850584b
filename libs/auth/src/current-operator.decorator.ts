import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { OperatorRequest } from './operator-auth.guard';
import { OperatorEntity } from './operator.entity';

/** The operator the `OperatorAuthGuard` authenticated for this request. */
export const CurrentOperator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): OperatorEntity => {
    const operator = context.switchToHttp().getRequest<OperatorRequest>().user;
    if (!operator) throw new Error('CurrentOperator used on a route without OperatorAuthGuard');
    return operator;
  },
);
