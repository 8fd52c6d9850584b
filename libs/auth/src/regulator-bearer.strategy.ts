import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { AuthError } from './auth.errors';
import { Regulator } from './regulator-identity';
import { RegulatorTokens } from './regulator-tokens';

export const REGULATOR_STRATEGY = 'regulator';
export const REGULATOR_REALM = 'townhall-regulator';

const REFUSALS = {
  expired: 'This regulator token has expired; ask the platform operator for a new one.',
  revoked: 'This regulator token has been revoked.',
} as const;

/**
 * Passport strategy `regulator`: a bearer token of a regulator that is neither revoked nor expired. An
 * expired or revoked token is told so (its holder had it legitimately); any other token is just invalid.
 */
@Injectable()
export class RegulatorBearerStrategy extends PassportStrategy(Strategy, REGULATOR_STRATEGY) {
  constructor(private readonly tokens: RegulatorTokens) {
    super({ realm: REGULATOR_REALM });
  }

  async validate(token: string): Promise<Regulator | null> {
    const verification = await this.tokens.verify(token);
    if (verification.status === 'valid') return verification.regulator;
    if (verification.status === 'unknown') return null;
    throw new AuthError('invalid_token', REFUSALS[verification.status]);
  }
}
