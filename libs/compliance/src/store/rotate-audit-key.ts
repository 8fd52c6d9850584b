import { Injectable } from '@nestjs/common';
import { AuditedTransactions } from '../recording/audited-transactions';
import { AuditOwnerConnection } from './audit-owner-connection';
import type { AuditKeyRotation } from './audit-signing-keys';
import { DatabaseAuditStore } from './database-audit-store';

const ACTION = 'audit.key.rotate';

/**
 * Rotating the platform's audit signing key (`townhall audit rotate-key`): a privileged action, so it is
 * itself an audit entry, committed together with the rotation in one transaction on the owner's
 * connection (only the owner may change the keys). The actor comes from the audit context.
 */
@Injectable()
export class RotateAuditKey {
  constructor(
    private readonly audited: AuditedTransactions,
    private readonly store: DatabaseAuditStore,
    private readonly owner: AuditOwnerConnection,
  ) {}

  /** `nextKeyId`: with a signer module, which of its keys becomes current (see AuditSigningKeys.rotate). */
  async run(nextKeyId: string | null = null): Promise<AuditKeyRotation> {
    return this.audited.run(
      {
        apply: (manager) => this.store.rotateKey(manager, nextKeyId),
        recorded: ({ key, rotation }) => ({
          action: ACTION,
          tenant: null,
          target: { type: 'audit_signing_key', id: key.keyId },
          details: { previousKeyId: rotation?.previousKeyId ?? null, validFrom: key.validFrom },
        }),
        refused: () => ({
          action: ACTION,
          tenant: null,
          target: { type: 'audit_signing_key', id: 'current' },
        }),
      },
      await this.owner.dataSource(),
    );
  }
}
