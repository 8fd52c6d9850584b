import { Injectable } from '@nestjs/common';
import { OperatorRateLimitGuard } from '../operator-rate-limit';

/**
 * The regulator API's rate limit: the operator API's limiter (config.rateLimit per window, counted in
 * Redis under one key per client address). Both APIs draw on the same budget on purpose: guessing
 * tokens of either kind from one address spends one allowance, not two. Only the message differs.
 */
@Injectable()
export class RegulatorRateLimitGuard extends OperatorRateLimitGuard {
  protected override getErrorMessage(): Promise<string> {
    return Promise.resolve(
      'Too many requests to the regulator API; retry after the number of seconds in Retry-After.',
    );
  }
}
