import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { AUTH_ENTITIES } from './operator.entity';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OperatorBearerStrategy } from './operator-bearer.strategy';
import { OperatorTokens } from './operator-tokens';
import { RegulatorAuthGuard } from './regulator-auth.guard';
import { RegulatorBearerStrategy } from './regulator-bearer.strategy';
import { RegulatorTokens } from './regulator-tokens';

const REGULATOR_AUTH = [RegulatorTokens, RegulatorBearerStrategy, RegulatorAuthGuard];

/**
 * Who may call the platform's APIs: operator and regulator tokens, and the passport strategies and
 * guards that check them.
 */
@Module({
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
  providers: [
    OperatorTokens,
    OperatorBearerStrategy,
    OperatorAuthGuard,
    AuthFailureLimiter,
    ...REGULATOR_AUTH,
  ],
  exports: [OperatorTokens, OperatorBearerStrategy, OperatorAuthGuard, AuthFailureLimiter, ...REGULATOR_AUTH],
})
export class AuthModule {}
