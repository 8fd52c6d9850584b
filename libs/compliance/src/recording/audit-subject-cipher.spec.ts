import { createHmac, randomBytes } from 'node:crypto';
import { SecretBox, SecretKeyring } from '@townhall/core';
import { AuditSubjectCipher, DirectSubjectSealing } from './audit-subject-cipher';

describe('AuditSubjectCipher', () => {
  const keyring = new SecretKeyring(randomBytes(32));
  const cipher = new AuditSubjectCipher(keyring);
  const period = cipher.openPeriodKey('100', cipher.newPeriodKey('100'));
  const row = { subjectId: '7001', ref: '0b6d3c1e-7a9f-4c55-b1d2-3e4f5a6b7c8d', position: 0 };

  it('keeps each period key sealed with its own subkey and bound to its row', () => {
    const sealed = cipher.newPeriodKey('101');
    expect(cipher.openPeriodKey('101', sealed).id).toBe('101');
    expect(() => cipher.openPeriodKey('102', sealed)).toThrow();
    expect(() => keyring.box('actor-keys').open(sealed, 'platform.audit_period_keys:101')).toThrow();
    expect(() =>
      new AuditSubjectCipher(new SecretKeyring(randomBytes(32))).openPeriodKey('101', sealed),
    ).toThrow();
  });

  it('files an identifier under a digest of its period key: another period, another digest', () => {
    const digest = cipher.lookupDigest(period, 'email:owner@agency.example');
    expect(digest).toHaveLength(32);
    expect(cipher.lookupDigest(period, 'email:owner@agency.example')).toEqual(digest);
    expect(cipher.lookupDigest(period, 'email:other@agency.example')).not.toEqual(digest);
    const next = cipher.openPeriodKey('200', cipher.newPeriodKey('200'));
    expect(cipher.lookupDigest(next, 'email:owner@agency.example')).not.toEqual(digest);
    // Nothing derived from the secret key alone confirms the address: the digest needs the period key.
    for (const purpose of ['actor-keys', 'audit-period-keys', 'audit-subject-locks'] as const) {
      expect(
        createHmac('sha256', keyring.subkey(purpose)).update('email:owner@agency.example').digest(),
      ).not.toEqual(digest);
    }
  });

  it('wraps a subject key under a period key, bound to the subject and the period key', () => {
    const key = cipher.newSubjectKey();
    expect(key).toHaveLength(32);
    expect(cipher.newSubjectKey()).not.toEqual(key);
    const wrapped = cipher.wrapSubjectKey(period, '7001', key);
    expect(wrapped).not.toContain(key.toString('base64'));
    expect(cipher.unwrapSubjectKey(period, '7001', wrapped)).toEqual(key);
    expect(() => cipher.unwrapSubjectKey(period, '7002', wrapped)).toThrow();
    const other = cipher.openPeriodKey('300', cipher.newPeriodKey('300'));
    expect(() => cipher.unwrapSubjectKey(other, '7001', wrapped)).toThrow();
    // Not with the period key's own sealing subkey either: only the key derived from the period key.
    expect(() =>
      keyring.box('audit-period-keys').open(wrapped, 'townhall/audit-subject-key/v2:7001:100'),
    ).toThrow();
  });

  it('seals personal data so that only its own subject key, subject and row open it', () => {
    const key = cipher.newSubjectKey();
    const sealed = cipher.sealPersonalData(key, { email: 'owner@agency.example' }, row);
    expect(sealed).not.toContain('owner@agency.example');
    expect(cipher.openPersonalData(key, sealed, row)).toEqual({ email: 'owner@agency.example' });
    expect(() => cipher.openPersonalData(randomBytes(32), sealed, row)).toThrow();
    expect(() => cipher.openPersonalData(key, sealed, { ...row, subjectId: '7002' })).toThrow();
    expect(() => cipher.openPersonalData(key, sealed, { ...row, position: 1 })).toThrow();
  });

  it('gives identifiers of different lengths ciphertexts of one length', () => {
    const key = cipher.newSubjectKey();
    const lengths = new Set(
      ['email:a@b.c', 'email:press@bmi.example', `email:${'x'.repeat(200)}@agency.example`].map(
        (identifier) => cipher.encryptIdentifier(key, identifier).length,
      ),
    );
    expect(lengths.size).toBe(1);
  });

  it('turns an identifier into a lock number that depends on the secret key', () => {
    const n = cipher.lockNumber('email:owner@agency.example');
    expect(BigInt(n)).toBeGreaterThanOrEqual(-(2n ** 63n));
    expect(cipher.lockNumber('email:owner@agency.example')).toBe(n);
    expect(cipher.lockNumber('email:other@agency.example')).not.toBe(n);
    expect(
      new AuditSubjectCipher(new SecretKeyring(randomBytes(32))).lockNumber('email:owner@agency.example'),
    ).not.toBe(n);
  });
});

describe('AuditSubjectCipher: subjects recorded before identifiers were kept', () => {
  const keyring = new SecretKeyring(randomBytes(32));
  const legacyKey = randomBytes(32);

  it('finds them under the legacy lookup key, kept sealed with its own subkey', () => {
    const cipher = new AuditSubjectCipher(keyring, legacyKey);
    const digest = createHmac('sha256', legacyKey).update('email:early@agency.example').digest();
    expect(cipher.legacyLookupDigest('email:early@agency.example')).toEqual(digest);
    const sealed = cipher.sealedLegacyKey()!;
    expect(
      AuditSubjectCipher.withSealedLegacyKey(keyring, sealed).legacyLookupDigest(
        'email:early@agency.example',
      ),
    ).toEqual(digest);
    expect(() =>
      AuditSubjectCipher.withSealedLegacyKey(new SecretKeyring(randomBytes(32)), sealed),
    ).toThrow();
    expect(new AuditSubjectCipher(keyring).legacyLookupDigest('x')).toBeNull();
    expect(new AuditSubjectCipher(keyring).sealedLegacyKey()).toBeNull();
  });

  it('carries the legacy lookup key across a rotation of the secret key, sealed with the new one', () => {
    const next = new SecretKeyring(randomBytes(32));
    const after = new AuditSubjectCipher(keyring, legacyKey).successor(next);
    const reopened = AuditSubjectCipher.withSealedLegacyKey(next, after.sealedLegacyKey());
    expect(reopened.legacyLookupDigest('x')).toEqual(createHmac('sha256', legacyKey).update('x').digest());
  });
});

describe('DirectSubjectSealing (installations before period keys)', () => {
  it('opens a subject key sealed with the secret key itself, and derives the lookup key as docs/compliance.md said', () => {
    const secret = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const direct = new DirectSubjectSealing(new SecretKeyring(secret));
    // HMAC-SHA256 of the identifier under HKDF-SHA256(secret, no salt, info
    // "townhall/audit-subject-lookup/v1"), computed by another implementation of RFC 5869.
    const digest = createHmac('sha256', direct.lookupKey()).update('email:press@bmi.example').digest();
    expect(digest.toString('hex')).toBe('d2e7a0e16f382768d82e6c7d16df1e8c06dbcaec98c398c4c9e7bd36e051b8d7');
    const key = randomBytes(32);
    const sealed = new SecretBox(secret).seal(
      key.toString('base64'),
      `townhall/audit-subject-key/v1:${digest.toString('base64')}`,
    );
    expect(direct.openSubjectKey(sealed, digest)).toEqual(key);
    expect(() => direct.openSubjectKey(sealed, randomBytes(32))).toThrow();
  });
});
