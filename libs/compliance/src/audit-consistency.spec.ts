import { publicKeyPem } from './audit-keys';
import { verifyAuditConsistency } from './audit-consistency';
import { signCheckpoint, type AuditCheckpoint } from './checkpoint';
import { buildLog, NEW_KEY, OLD_KEY, ORIGIN, TRUSTED_KEYS } from './testing/audit-log-fixture';

/**
 * A consistency proof on its own, as the regulator API serves it: a regulator holding checkpoint 500
 * learns that the newest checkpoint extends it — and is told when it does not.
 */
describe('a consistency proof without a bundle', () => {
  const log = buildLog();
  const kept = log.checkpoints.find((cp) => cp.treeSize === 500) as AuditCheckpoint;

  it('shows the newest checkpoint extends the one kept, following the rotation from one key', () => {
    const proof = log.consistencyProof(500);
    expect(proof).toMatchObject({ from: 500, to: 1050, checkpoint: log.newestCheckpoint() });
    expect(verifyAuditConsistency(proof, TRUSTED_KEYS, kept)).toMatchObject({
      ok: true,
      summary: { since: { treeSize: 500 }, checkpoint: { treeSize: 1050 } },
    });
    expect(verifyAuditConsistency(proof, publicKeyPem(OLD_KEY), kept)).toMatchObject({ ok: true });
    expect(verifyAuditConsistency(log.consistencyProof(500, 800), TRUSTED_KEYS, kept)).toMatchObject({
      ok: true,
    });
  });

  it('refuses a log whose history was rewritten and signed again', () => {
    const rewritten = buildLog({
      rewrite: (input, seq) => (seq === 42 ? { ...input, action: 'tenant.delete' } : input),
    });
    expect(verifyAuditConsistency(rewritten.consistencyProof(500), TRUSTED_KEYS, kept)).toMatchObject({
      ok: false,
      reason: 'inconsistent',
      checkpoint: 500,
    });
  });

  it('refuses another root for the size kept, a checkpoint dated before it, and one signed by nobody trusted', () => {
    const forked = buildLog({
      rewrite: (input, seq) => (seq === 3 ? { ...input, outcome: 'denied' } : input),
    });
    expect(verifyAuditConsistency(forked.consistencyProof(500, 500), TRUSTED_KEYS, kept)).toMatchObject({
      ok: false,
      reason: 'fork',
    });
    const proof = log.consistencyProof(500);
    const early = signCheckpoint(
      { origin: ORIGIN, treeSize: 1050, rootHash: log.tree.root(), time: '2025-01-02T00:00:00.000Z' },
      OLD_KEY,
    );
    expect(verifyAuditConsistency({ ...proof, checkpoint: early }, TRUSTED_KEYS, kept)).toMatchObject({
      ok: false,
      reason: 'backdated',
      checkpoint: 1050,
    });
    expect(verifyAuditConsistency(proof, publicKeyPem(NEW_KEY), kept)).toMatchObject({
      ok: false,
      reason: 'unknown_key',
    });
    expect(verifyAuditConsistency({ ...proof, from: 400 }, TRUSTED_KEYS, kept)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });
});
