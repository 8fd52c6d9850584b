import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OperatorTokens } from '@townhall/auth';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';

/** At start, makes TOWNHALL_OPERATOR_TOKEN the token of the `bootstrap` operator, when it is set. */
@Injectable()
export class BootstrapOperator implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapOperator.name);

  constructor(
    private readonly tokens: OperatorTokens,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.operatorToken === undefined) {
      this.logger.log(
        'TOWNHALL_OPERATOR_TOKEN is not set: no bootstrap operator; create operators with the CLI.',
      );
      return;
    }
    await this.tokens.ensureBootstrapOperator(this.config.operatorToken);
  }
}
