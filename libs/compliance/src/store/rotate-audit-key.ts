import { Injectable } from '@nestjs/common';
import { AuditedTransactions } from '../recording/audited-transactions';
import type { AuditKeyRotation } from './audit-signing-keys';
import { DatabaseAuditStore } from './database-audit-store';

const ACTION = 'audit.key.rotate';

/**
 * Rotating the platform's audit signing key (`townhall audit rotate-key`): a privileged action, so it is
 * itself an audit entry, committed together with the rotation. The actor comes from the audit context.
 */
@Injectable()
export class RotateAuditKey {
  constructor(
    private readonly audited: AuditedTransactions,
    private readonly store: DatabaseAuditStore,
  ) {}

  run(): Promise<AuditKeyRotation> {
    return this.audited.run({
      apply: (manager) => this.store.rotateKey(manager),
      recorded: ({ key, rotation }) => ({
        action: ACTION,
        tenant: null,
        target: { type: 'audit_signing_key', id: key.keyId },
        details: { previousKeyId: rotation?.previousKeyId ?? null, validFrom: key.validFrom },
      }),
      refused: () => ({ action: ACTION, tenant: null, target: { type: 'audit_signing_key', id: 'current' } }),
    });
  }
}
