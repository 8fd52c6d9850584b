import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditStore } from '@townhall/compliance';
import { AuditKeysView } from './audit-keys.view';
import { OperatorRateLimitGuard } from './operator-rate-limit';
import { ApiProblems } from './problem.view';

export const AUDIT_KEYS_PATH = '/api/platform/v1/audit/keys';

/**
 * The audit log's public keys. No token is needed: public keys are not secret, anyone holding an export
 * (a regulator, a court, a journalist given one) must be able to check it, and the more places keep a
 * copy of the keys, the harder it is to substitute them unnoticed. Rate limited like the operator API.
 * Regulators get the same body from the regulator API.
 */
@ApiTags('audit')
@ApiProblems(429)
@UseGuards(OperatorRateLimitGuard)
@Controller(AUDIT_KEYS_PATH)
export class AuditKeysController {
  constructor(private readonly store: AuditStore) {}

  @Get()
  @ApiOperation({
    summary: 'The audit log’s signing keys (public, no token needed)',
    description:
      'Ed25519 public keys with their validity windows, current and retired. Save the body as a file to ' +
      'verify exports offline: townhall audit verify BUNDLE --key FILE.',
  })
  @ApiOkResponse({ type: AuditKeysView })
  async keys(): Promise<AuditKeysView> {
    return { keys: await this.store.keys() };
  }
}
