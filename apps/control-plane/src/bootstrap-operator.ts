import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OperatorTokens } from '@townhall/auth';
import { AuditContext, systemAuditContext } from '@townhall/compliance';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';

/**
 * At start, makes TOWNHALL_OPERATOR_TOKEN the token of the `bootstrap` operator, when it is set. The
 * platform acts here on its configuration, so the audit entry names the control plane as a system actor.
 */
@Injectable()
export class BootstrapOperator implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapOperator.name);

  constructor(
    private readonly tokens: OperatorTokens,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const token = this.config.operatorToken;
    if (token === undefined) {
      this.logger.log(
        'TOWNHALL_OPERATOR_TOKEN is not set: no bootstrap operator; create operators with the CLI.',
      );
      return;
    }
    await AuditContext.run(systemAuditContext('control-plane'), () =>
      this.tokens.ensureBootstrapOperator(token),
    );
  }
}
