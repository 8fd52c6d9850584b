import { randomBytes } from 'node:crypto';
import { SecretBox } from '@townhall/core';
import { AuditSubjectCipher } from './audit-subject-cipher';

describe('AuditSubjectCipher', () => {
  const secret = randomBytes(32);
  const cipher = new AuditSubjectCipher(new SecretBox(secret), secret);
  const row = { subjectId: '7001', ref: '0b6d3c1e-7a9f-4c55-b1d2-3e4f5a6b7c8d', position: 0 };

  it('maps an identifier to the same lookup digest, which depends on the platform secret', () => {
    const digest = cipher.lookupDigest('email:owner@agency.example');
    expect(digest).toHaveLength(32);
    expect(cipher.lookupDigest('email:owner@agency.example').equals(digest)).toBe(true);
    expect(cipher.lookupDigest('email:other@agency.example').equals(digest)).toBe(false);
    const otherSecret = randomBytes(32);
    const otherPlatform = new AuditSubjectCipher(new SecretBox(otherSecret), otherSecret);
    expect(otherPlatform.lookupDigest('email:owner@agency.example').equals(digest)).toBe(false);
  });

  it('derives the lookup digest as docs/compliance.md says, so subjects stay found across releases', () => {
    // HMAC-SHA256 of the identifier under HKDF-SHA256(platform secret, no salt,
    // info "townhall/audit-subject-lookup/v1"), computed by another implementation of RFC 5869.
    const fixed = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const platform = new AuditSubjectCipher(new SecretBox(fixed), fixed);
    expect(platform.lookupDigest('email:press@bmi.example').toString('hex')).toBe(
      'd2e7a0e16f382768d82e6c7d16df1e8c06dbcaec98c398c4c9e7bd36e051b8d7',
    );
  });

  it('gives every subject its own key, stored only sealed and bound to the subject', () => {
    const digest = cipher.lookupDigest('email:owner@agency.example');
    const { key, sealed } = cipher.newSubjectKey(digest);
    expect(key).toHaveLength(32);
    expect(sealed).not.toContain(key.toString('base64'));
    expect(cipher.openSubjectKey(sealed, digest).equals(key)).toBe(true);
    expect(cipher.newSubjectKey(digest).key.equals(key)).toBe(false);
    expect(() => cipher.openSubjectKey(sealed, cipher.lookupDigest('email:other@agency.example'))).toThrow();
  });

  it('seals personal data so that only its own subject key, subject and row open it', () => {
    const { key } = cipher.newSubjectKey(cipher.lookupDigest('x'));
    const sealed = cipher.sealPersonalData(key, { email: 'owner@agency.example' }, row);
    expect(sealed).not.toContain('owner@agency.example');
    expect(cipher.openPersonalData(key, sealed, row)).toEqual({ email: 'owner@agency.example' });
    expect(() => cipher.openPersonalData(randomBytes(32), sealed, row)).toThrow();
    expect(() => cipher.openPersonalData(key, sealed, { ...row, subjectId: '7002' })).toThrow();
    expect(() => cipher.openPersonalData(key, sealed, { ...row, position: 1 })).toThrow();
  });
});

describe('AuditSubjectCipher across a rotation of the platform secret', () => {
  const old = randomBytes(32);
  const next = randomBytes(32);
  const before = new AuditSubjectCipher(new SecretBox(old), old);

  it('keeps a subject’s identifier under the subject’s own key, for the rotation to recompute its digest', () => {
    const { key } = before.newSubjectKey(before.lookupDigest('email:owner@agency.example'));
    const ciphertext = before.encryptIdentifier(key, 'email:owner@agency.example');
    expect(ciphertext).not.toContain('owner@agency.example');
    expect(before.decryptIdentifier(key, ciphertext)).toBe('email:owner@agency.example');
    expect(() => before.decryptIdentifier(randomBytes(32), ciphertext)).toThrow();
  });

  it('without subjects lacking an identifier, the successor has the new digest only', () => {
    const after = before.successor(next, 0);
    expect(after.lookupDigests('x')).toEqual([
      new AuditSubjectCipher(new SecretBox(next), next).lookupDigest('x'),
    ]);
    expect(after.lookupDigest('x').equals(before.lookupDigest('x'))).toBe(false);
    expect(after.sealedLegacyKey()).toBeNull();
  });

  it('with such subjects, the successor also finds them under the old digest, and keeps that key sealed under the new secret', () => {
    const after = before.successor(next, 3);
    expect(after.lookupDigests('x')).toEqual([after.lookupDigest('x'), before.lookupDigest('x')]);
    const sealed = after.sealedLegacyKey()!;
    expect(() => AuditSubjectCipher.withSealedLegacyKey(new SecretBox(old), old, sealed)).toThrow();
    const reopened = AuditSubjectCipher.withSealedLegacyKey(new SecretBox(next), next, sealed);
    expect(reopened.lookupDigests('x')).toEqual(after.lookupDigests('x'));
    // A later rotation carries the same legacy key on: those digests never change.
    const later = randomBytes(32);
    expect(reopened.successor(later, 1).lookupDigests('x')[1]).toEqual(before.lookupDigest('x'));
  });
});
