import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { OperatorEntity } from './operator.entity';
import { OperatorTokens } from './operator-tokens';

export const OPERATOR_STRATEGY = 'operator';
export const OPERATOR_REALM = 'townhall-operator';

/** Passport strategy `operator`: a bearer token that belongs to a non-revoked operator. */
@Injectable()
export class OperatorBearerStrategy extends PassportStrategy(Strategy, OPERATOR_STRATEGY) {
  constructor(private readonly tokens: OperatorTokens) {
    super({ realm: OPERATOR_REALM });
  }

  validate(token: string): Promise<OperatorEntity | null> {
    return this.tokens.verify(token);
  }
}
