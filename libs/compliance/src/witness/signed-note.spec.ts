import { createPublicKey, verify } from 'node:crypto';
import { noteVerifierKey } from '../checkpoint';
import { rawEd25519PublicKey } from '../audit-keys';
import { ed25519FromSeed } from '../testing/audit-log-fixture';
import { checkCosignature, cosign, cosignatureMessage, parseCosignerKey } from './cosignature';
import {
  formatVerifierKey,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  parseSignedNote,
  parseVerifierKey,
  signedBy,
  splitSignature,
} from './signed-note';

describe('C2SP signed notes and verifier keys', () => {
  // The example of https://c2sp.org/signed-note ("Verifier keys").
  const EXAMPLE_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const EXAMPLE_NOTE =
    'This is an example message.\n\n' +
    '\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

  it('reads the specification’s example key and verifies its example note', () => {
    const key = parseVerifierKey(EXAMPLE_VKEY, [NOTE_ED25519]);
    expect(key).toMatchObject({ name: 'example.com/foo', type: NOTE_ED25519 });
    expect(key.keyId.toString('hex')).toBe('530d903a');
    expect(formatVerifierKey(key.name, key.type, key.raw)).toBe(EXAMPLE_VKEY);
    const note = parseSignedNote(EXAMPLE_NOTE);
    expect(note.text).toBe('This is an example message.\n');
    expect(signedBy(note.signatures[0], key)).toBe(true);
    const { bytes } = splitSignature(note.signatures[0]);
    expect(verify(null, Buffer.from(note.text), key.publicKey, bytes)).toBe(true);
  });

  it('names the audit log’s checkpoint key exactly as the checkpoint module does', () => {
    const key = ed25519FromSeed('townhall audit-format.md example key');
    const vkey = noteVerifierKey('townhall.example/audit', createPublicKey(key));
    expect(vkey).toBe('townhall.example/audit+01c406f2+AWufmWDwvDRSuLBle7jDKC6LUwEQyhEwxtNGaHRubDqo');
    expect(formatVerifierKey('townhall.example/audit', NOTE_ED25519, rawEd25519PublicKey(key))).toBe(vkey);
  });

  it('refuses keys that are not exactly a key: wrong ID, type, length, spelling', () => {
    const bad = [
      'example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', // another key ID
      'example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', // upper-case hex
      'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U', // 30 bytes
      'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l', // stray bits
      'example com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
      'example.com/foo+530d903a',
    ];
    for (const text of bad)
      expect(() => parseVerifierKey(text, [NOTE_ED25519])).toThrow(/is not a verifier key/);
    // A log key is not a cosigner key, nor the other way round.
    expect(() => parseCosignerKey(EXAMPLE_VKEY)).toThrow(/signature type is 0x01, expected 0x04/);
  });

  it('reads a key whose base64 contains "+"', () => {
    const raw = Buffer.alloc(32, 0xfb);
    const vkey = formatVerifierKey('w3.example', NOTE_COSIGNATURE_V1, raw);
    expect(vkey.split('+').length).toBeGreaterThan(3);
    expect(parseCosignerKey(vkey).raw.equals(raw)).toBe(true);
  });

  it('refuses notes without a blank line, with control characters or malformed signature lines', () => {
    for (const note of [
      'text\n\u2014 a AAAAAAA=\n',
      'text\n\n',
      'te\u0007xt\n\n\u2014 a AAAAAAA=\n',
      'text\n\n\u2014 a AAAAAAA=',
      'text\n\n- a AAAAAAA=\n',
      'text\n\n\u2014 a b c\n',
    ]) {
      expect(() => parseSignedNote(note)).toThrow();
    }
  });
});

describe('C2SP tlog-cosignature (cosignature/v1)', () => {
  const witness = ed25519FromSeed('cosignature spec witness');
  const key = parseCosignerKey(
    formatVerifierKey('witness.example/w1', NOTE_COSIGNATURE_V1, rawEd25519PublicKey(witness)),
  );
  const text = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

  it('signs the header line, the time line and the checkpoint text, as the specification lays out', () => {
    expect(cosignatureMessage(text, 1679315147).toString()).toBe(`cosignature/v1\ntime 1679315147\n${text}`);
    const line = cosign(text, 'witness.example/w1', witness, 1679315147);
    const blob = Buffer.from(line.signature, 'base64');
    expect(blob).toHaveLength(76);
    expect(blob.subarray(0, 4).equals(key.keyId)).toBe(true);
    expect(blob.readBigUInt64BE(4)).toBe(1679315147n);
    expect(
      verify(null, cosignatureMessage(text, 1679315147), createPublicKey(witness), blob.subarray(12)),
    ).toBe(true);
    expect(checkCosignature(text, line, key)).toEqual({ status: 'valid', timestamp: 1679315147 });
  });

  it('reproduces the worked example of docs/audit-format.md §13', () => {
    const example = ed25519FromSeed('townhall audit-format.md example witness');
    const vkey = formatVerifierKey('witness.example/w1', NOTE_COSIGNATURE_V1, rawEd25519PublicKey(example));
    expect(vkey).toBe('witness.example/w1+bab76c98+BHOOzr/xeTwwqkHVu/nVGOWIwp8cOvOCIOLMrlMHG3Hz');
    const checkpoint =
      'townhall.example/audit\n3\nJoSjrzjNGP0lg2ZGKqRFEA8L+qV+0QZY13TF6ryI/Z8=\ntime 2025-01-15T10:05:00.000Z\n';
    const line = cosign(checkpoint, 'witness.example/w1', example, 1736935502);
    expect(line.signature).toBe(
      'urdsmAAAAABnh4hOWigqQF2qH8lpW9WUjQc7nzjK9FR4avSAIN1emSGk8wOCEModyU379u228120NuCeCimIOV5P4BIwepb94JBmCQ==',
    );
    expect(checkCosignature(checkpoint, line, parseCosignerKey(vkey))).toEqual({
      status: 'valid',
      timestamp: 1736935502,
    });
  });

  it('finds a cosignature of another text, time or name invalid or foreign', () => {
    const line = cosign(text, 'witness.example/w1', witness, 1679315147);
    expect(checkCosignature(text.replace('20852163', '20852164'), line, key).status).toBe('invalid');
    const blob = Buffer.from(line.signature, 'base64');
    blob.writeBigUInt64BE(1679315148n, 4);
    expect(checkCosignature(text, { ...line, signature: blob.toString('base64') }, key).status).toBe(
      'invalid',
    );
    expect(checkCosignature(text, { ...line, name: 'witness.example/w2' }, key).status).toBe('other_key');
  });
});
