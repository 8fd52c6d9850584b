import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AUTH_ENTITIES } from './operator.entity';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OperatorBearerStrategy } from './operator-bearer.strategy';
import { OperatorTokens } from './operator-tokens';

/** Who may call the platform's APIs: operator tokens and the passport strategy and guard that check them. */
@Module({
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
  providers: [OperatorTokens, OperatorBearerStrategy, OperatorAuthGuard],
  exports: [OperatorTokens, OperatorBearerStrategy, OperatorAuthGuard],
})
export class AuthModule {}
