import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import {
  AuditKeyring,
  auditKeyId,
  describeAuditKey,
  keyRotationSigningInput,
  publicKeyPem,
  rawEd25519PublicKey,
  signKeyRotation,
  trustAuditKey,
  verifyKeyRotationSignature,
} from './audit-keys';
import { verifyAuditBundle } from './audit-bundle-verifier';
import {
  checkpointNote,
  checkpointProblem,
  checkpointSigningInput,
  noteVerifierKey,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpointSignature,
} from './checkpoint';
import { ComplianceError } from './compliance.errors';
import {
  buildLog,
  bundleLines,
  GENERATED_AT,
  joinLines,
  NEW_KEY,
  NEW_KEY_DESCRIPTION,
  OLD_KEY,
  OLD_KEY_DESCRIPTION,
  ORIGIN,
  parseLine,
  ROTATION_TIME,
  UNKNOWN_KEY,
} from './testing/audit-log-fixture';

const ROOT = createHash('sha256').update('root').digest();

describe('audit keys', () => {
  it('derives the key id from the key itself', () => {
    const raw = rawEd25519PublicKey(OLD_KEY);
    expect(raw).toHaveLength(32);
    expect(auditKeyId(OLD_KEY)).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    expect(OLD_KEY_DESCRIPTION.keyId).toBe(auditKeyId(OLD_KEY));
  });

  it('refuses a description whose id is not its key’s, or that is not Ed25519', () => {
    expect(() => trustAuditKey({ ...OLD_KEY_DESCRIPTION, keyId: NEW_KEY_DESCRIPTION.keyId })).toThrow(
      /not the id/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => trustAuditKey({ ...OLD_KEY_DESCRIPTION, publicKeyPem: publicKeyPem(rsa) })).toThrow(
      ComplianceError,
    );
    expect(() => trustAuditKey({ ...OLD_KEY_DESCRIPTION, validTo: '2024-01-01T00:00:00Z' })).toThrow(
      /empty validity/,
    );
    expect(() => trustAuditKey({ ...OLD_KEY_DESCRIPTION, algorithm: 'rsa' })).toThrow(/ed25519/);
  });

  it('reads a PEM key or the keys endpoint JSON, and refuses anything else', () => {
    expect(AuditKeyring.from(publicKeyPem(OLD_KEY)).ids()).toEqual([OLD_KEY_DESCRIPTION.keyId]);
    const ring = AuditKeyring.from(JSON.stringify({ keys: [OLD_KEY_DESCRIPTION, NEW_KEY_DESCRIPTION] }));
    expect(ring.ids().sort()).toEqual([OLD_KEY_DESCRIPTION.keyId, NEW_KEY_DESCRIPTION.keyId].sort());
    expect(ring.get(OLD_KEY_DESCRIPTION.keyId)?.validTo).toBe(Date.parse(ROTATION_TIME));
    expect(() => AuditKeyring.from('hello')).toThrow(ComplianceError);
    expect(() => AuditKeyring.from('{"keys":[]}')).toThrow(/at least one key/);
  });

  it('signs a rotation with the outgoing key over a domain-separated canonical text', () => {
    const record = signKeyRotation(
      { time: ROTATION_TIME, previousKeyId: OLD_KEY_DESCRIPTION.keyId, key: NEW_KEY_DESCRIPTION },
      OLD_KEY,
    );
    const input = keyRotationSigningInput(record).toString('utf8');
    expect(input.startsWith('townhall-audit-key-rotation/v1\n{"key":{"algorithm":"ed25519","keyId":')).toBe(
      true,
    );
    expect(verifyKeyRotationSignature(record, OLD_KEY)).toBe(true);
    expect(verifyKeyRotationSignature({ ...record, time: '2025-03-02T00:00:00.000Z' }, OLD_KEY)).toBe(false);
    expect(() =>
      signKeyRotation(
        { time: ROTATION_TIME, previousKeyId: OLD_KEY_DESCRIPTION.keyId, key: NEW_KEY_DESCRIPTION },
        NEW_KEY,
      ),
    ).toThrow(/outgoing key/);
  });
});

describe('checkpoints', () => {
  const cp = signCheckpoint(
    { origin: ORIGIN, treeSize: 42, rootHash: ROOT, time: '2025-02-01T00:00:00.000Z' },
    OLD_KEY,
  );

  it('signs the C2SP checkpoint note text with a time extension line', () => {
    expect(checkpointSigningInput(cp).toString('utf8')).toBe(
      `${ORIGIN}\n42\n${ROOT.toString('base64')}\ntime 2025-02-01T00:00:00.000Z\n`,
    );
    expect(cp.keyId).toBe(OLD_KEY_DESCRIPTION.keyId);
    expect(verifyCheckpointSignature(cp, OLD_KEY)).toBe(true);
    expect(verifyCheckpointSignature(cp, NEW_KEY)).toBe(false);
    for (const change of [
      { treeSize: 43 },
      { rootHash: Buffer.alloc(32).toString('base64') },
      { time: '2025-02-01T00:00:00.001Z' },
      { origin: 'x.example/log' },
    ]) {
      expect(verifyCheckpointSignature({ ...cp, ...change }, OLD_KEY)).toBe(false);
    }
  });

  it('renders a signed note that signed-note verifiers accept (key hash, name, signature over the text)', () => {
    const note = checkpointNote(cp, OLD_KEY);
    const [text, signatureLine] = note.split('\n\n');
    expect(`${text}\n`).toBe(checkpointSigningInput(cp).toString('utf8'));
    const match = /^\u2014 (\S+) (\S+)\n$/.exec(signatureLine);
    expect(match?.[1]).toBe(ORIGIN);
    const blob = Buffer.from(match?.[2] ?? '', 'base64');
    const raw = rawEd25519PublicKey(OLD_KEY);
    const keyHash = createHash('sha256')
      .update(`${ORIGIN}\n`)
      .update(Buffer.from([1]))
      .update(raw)
      .digest()
      .subarray(0, 4);
    expect(blob.subarray(0, 4)).toEqual(keyHash);
    expect(verify(null, Buffer.from(`${text}\n`), OLD_KEY, blob.subarray(4))).toBe(true);
    expect(noteVerifierKey(ORIGIN, OLD_KEY)).toBe(
      `${ORIGIN}+${keyHash.toString('hex')}+${Buffer.concat([Buffer.from([1]), raw]).toString('base64')}`,
    );
  });

  it('parses a checkpoint line and rejects malformed ones', () => {
    expect(parseCheckpoint(JSON.stringify({ type: 'checkpoint', ...cp }))).toEqual(cp);
    expect(checkpointProblem({ ...cp, origin: 'has space' })).toMatch(/origin/);
    expect(checkpointProblem({ ...cp, rootHash: 'abc' })).toMatch(/rootHash/);
    expect(checkpointProblem({ ...cp, time: '2025-02-01T00:00:00Z' })).toMatch(/time/);
    expect(checkpointProblem({ ...cp, signature: 'AAAA' })).toMatch(/signature/);
    expect(() => parseCheckpoint('nope')).toThrow(ComplianceError);
  });
});

describe('key rotation in a bundle', () => {
  const log = buildLog({ size: 900 });
  const lines = bundleLines(log.exportText({ generatedAt: GENERATED_AT }));
  const rotationAt = lines.findIndex((l) => parseLine(l).type === 'key_rotation');

  it('rejects a rotation record whose signature does not verify', async () => {
    const tampered = [...lines];
    tampered[rotationAt] = JSON.stringify({
      ...parseLine(lines[rotationAt]),
      time: '2025-02-27T00:00:00.000Z',
    });
    expect(await verifyAuditBundle(joinLines(tampered), publicKeyPem(OLD_KEY))).toMatchObject({
      ok: false,
      reason: 'bad_signature',
      keyId: OLD_KEY_DESCRIPTION.keyId,
    });
  });

  it('ignores a rotation signed by a key nobody trusts: it cannot extend trust', async () => {
    const forged = signKeyRotation(
      {
        time: ROTATION_TIME,
        previousKeyId: auditKeyId(UNKNOWN_KEY),
        key: describeAuditKey(UNKNOWN_KEY, { validFrom: ROTATION_TIME }),
      },
      UNKNOWN_KEY,
    );
    const tampered = [...lines];
    tampered.splice(rotationAt + 1, 0, JSON.stringify({ type: 'key_rotation', ...forged }));
    expect((await verifyAuditBundle(joinLines(tampered), publicKeyPem(OLD_KEY))).ok).toBe(true);
  });

  it('ends the old key’s window where the new key begins', async () => {
    // Trusting only the old key, as a bare PEM valid forever: after the rotation it no longer counts.
    const late = signCheckpoint(
      { origin: ORIGIN, treeSize: 900, rootHash: log.tree.root(900), time: '2025-03-20T00:00:00.000Z' },
      OLD_KEY,
    );
    const tampered = lines.map((l) => {
      const parsed = parseLine(l);
      return parsed.type === 'checkpoint' && parsed.treeSize === 900
        ? JSON.stringify({ type: 'checkpoint', ...late })
        : l;
    });
    expect(await verifyAuditBundle(joinLines(tampered), publicKeyPem(OLD_KEY))).toMatchObject({
      ok: false,
      reason: 'unknown_key',
      checkpoint: 900,
    });
  });
});
