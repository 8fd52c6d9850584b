import { sign, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { auditLeafHash, type AuditEntry } from './audit-entry';
import { AuditBundleWriter } from './audit-bundle-writer';
import { verifyAuditBundle } from './audit-bundle-verifier';
import {
  auditKeyId,
  describeAuditKey,
  keyRotationSigningInput,
  publicKeyPem,
  type AuditKeyDescription,
  type KeyRotationRecord,
} from './audit-keys';
import type { AuditVerificationResult } from './audit-verification';
import { canonicalJson } from './canonical-json';
import { signCheckpoint, type AuditCheckpoint } from './checkpoint';
import { InMemoryAuditLog } from './in-memory-audit-log';
import {
  buildLog,
  bundleLines,
  ed25519FromSeed,
  entryInput,
  entryTime,
  GENERATED_AT,
  indexOfCheckpoint,
  indexOfEntry,
  joinLines,
  NEW_KEY,
  NEW_KEY_DESCRIPTION,
  OLD_KEY,
  OLD_KEY_DESCRIPTION,
  ORIGIN,
  parseLine,
  ROTATION_TIME,
  TENANT_A,
  TRUSTED_KEYS,
} from './testing/audit-log-fixture';

/**
 * Bundles forged the way an attacker would forge them — with a retired key someone kept, by re-spelling
 * bytes that parsers read differently, by hiding entries an export should show, by signing times that
 * go backwards — each refused with its reason. Every bundle goes through the streaming verifier (block
 * path), its worker threads, and the exact line-by-line reference, which must agree.
 */

/** The key a thief made and wants trusted. */
const THIEF_KEY = ed25519FromSeed('a key made by whoever kept the retired one');

async function verifyEveryWay(
  bundle: string | Buffer,
  keys: Parameters<typeof verifyAuditBundle>[1],
  since?: AuditCheckpoint,
): Promise<AuditVerificationResult> {
  const bytes = typeof bundle === 'string' ? Buffer.from(bundle, 'utf8') : bundle;
  const whole = await verifyAuditBundle(bytes, keys, { since });
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
  expect(await verifyAuditBundle(Readable.from(chunks), keys, { since, workers: 1 })).toEqual(whole);
  return whole;
}

function expectRefused(
  result: AuditVerificationResult,
  expected: { reason: string; seq?: number; checkpoint?: number; keyId?: string },
  message?: RegExp,
): void {
  expect(result).toMatchObject({ ok: false, ...expected });
  if (!result.ok && message) expect(result.message).toMatch(message);
}

/** A rotation record signed as the attacker pleases: no check of what it says. */
function forgeRotation(record: Omit<KeyRotationRecord, 'signature'>, by: KeyObject): KeyRotationRecord {
  return { ...record, signature: sign(null, keyRotationSigningInput(record), by).toString('base64') };
}

/**
 * A log of `size` entries signed throughout by the thief's key, carrying the given rotation records:
 * what someone holding the retired key builds to rewrite history.
 */
function thiefLog(rotations: KeyRotationRecord[], size = 300): InMemoryAuditLog {
  const log = new InMemoryAuditLog(ORIGIN, { tenantSeq: true });
  for (const rotation of rotations) log.addRotation(rotation);
  for (let seq = 0; seq < size; seq++) {
    const input = entryInput(seq);
    const entry = log.append(seq === 5 ? { ...input, action: 'tenant.create' } : input);
    if ((seq + 1) % 100 === 0) log.checkpoint(THIEF_KEY, entry.time);
  }
  return log;
}

const THIEF_FROM = '2024-12-15T00:00:00.000Z';
const thiefKey = (validFrom: string): AuditKeyDescription => describeAuditKey(THIEF_KEY, { validFrom });
const toThief = (time: string, validFrom = time): KeyRotationRecord =>
  forgeRotation({ time, previousKeyId: OLD_KEY_DESCRIPTION.keyId, key: thiefKey(validFrom) }, OLD_KEY);

describe('a rotation signed by a retired key', () => {
  it('adds no key when the verifier is given the platform’s key list', async () => {
    // Inside the old key's window, as the list gives it: the old code trusted the thief's key.
    const forged = thiefLog([toThief(THIEF_FROM)]).exportText({ generatedAt: GENERATED_AT });
    expectRefused(
      await verifyEveryWay(forged, TRUSTED_KEYS),
      { reason: 'unknown_key', checkpoint: 100, keyId: auditKeyId(THIEF_KEY) },
      /not in the key list given; a rotation record in the bundle .* names it/,
    );
  });

  it('adds no key when it claims validity back to 1970, nor lets its checkpoints be back-dated', async () => {
    const forged = thiefLog([toThief(THIEF_FROM, '1970-01-01T00:00:00.000Z')]).exportText({
      generatedAt: GENERATED_AT,
    });
    expectRefused(await verifyEveryWay(forged, TRUSTED_KEYS), { reason: 'unknown_key', checkpoint: 100 });
    // Following the chain from the old key alone, the back-dated key is refused at its rotation.
    expectRefused(
      await verifyEveryWay(forged, publicKeyPem(OLD_KEY)),
      { reason: 'backdated', keyId: OLD_KEY_DESCRIPTION.keyId },
      /claims validity from 1970-01-01T00:00:00.000Z/,
    );
  });

  it('cannot give the retired key a second successor', async () => {
    // The genuine rotation to the new key, then the thief's, dated before it (inside the old window).
    const genuine = buildLog({ size: 300 });
    genuine.addRotation(toThief('2025-02-01T00:00:00.000Z'));
    const forged = genuine.exportText({ generatedAt: GENERATED_AT });
    expectRefused(
      await verifyEveryWay(forged, publicKeyPem(OLD_KEY)),
      { reason: 'fork', keyId: OLD_KEY_DESCRIPTION.keyId },
      /rotated twice: to [0-9a-f]{16} at 2025-03-01T00:00:00.000Z and to [0-9a-f]{16} at 2025-02-01/,
    );
  });

  it('cannot end a key given with an end at another moment than that end', async () => {
    // The verifier holds only the old key's description, retired at ROTATION_TIME.
    const forged = thiefLog([toThief(THIEF_FROM)]).exportText({ generatedAt: GENERATED_AT });
    expectRefused(
      await verifyEveryWay(forged, { keys: [OLD_KEY_DESCRIPTION] }),
      { reason: 'unknown_key', keyId: OLD_KEY_DESCRIPTION.keyId },
      /was retired at 2025-03-01T00:00:00.000Z \(as given\)/,
    );
    const late = thiefLog([toThief('2025-03-02T00:00:00.000Z')]).exportText({ generatedAt: GENERATED_AT });
    expectRefused(await verifyEveryWay(late, { keys: [OLD_KEY_DESCRIPTION] }), {
      reason: 'unknown_key',
      keyId: OLD_KEY_DESCRIPTION.keyId,
    });
  });

  it('still lets a verifier that holds one key follow the genuine chain', async () => {
    const genuine = buildLog({ size: 900 }).exportText({ generatedAt: GENERATED_AT });
    expect((await verifyEveryWay(genuine, publicKeyPem(OLD_KEY))).ok).toBe(true);
    expect((await verifyEveryWay(genuine, { keys: [OLD_KEY_DESCRIPTION] })).ok).toBe(true);
    // A key list is complete: the chain is not needed, and the genuine record changes nothing.
    expect((await verifyEveryWay(genuine, TRUSTED_KEYS)).ok).toBe(true);
    expect((await verifyEveryWay(genuine, { keys: [NEW_KEY_DESCRIPTION] })).ok).toBe(false);
  });
});

describe('lines that different readers read differently', () => {
  const log = buildLog({
    size: 300,
    rewrite: (input, seq) => (seq === 7 ? { ...input, details: { note: 'replaced: \uFFFD' } } : input),
  });
  const lines = bundleLines(log.exportText({ generatedAt: GENERATED_AT }));

  it('refuses an entry line that gives a member twice', async () => {
    // JSON.parse keeps the last "action", so the leaf hash still matches; another reader keeps the first.
    const forged = [...lines];
    const at = indexOfEntry(forged, 5);
    const action = (parseLine(forged[at]).entry as AuditEntry).action;
    forged[at] = forged[at].replace(`"action":"${action}"`, `"action":"tenant.delete","action":"${action}"`);
    expectRefused(await verifyEveryWay(joinLines(forged), TRUSTED_KEYS), { reason: 'malformed', seq: 5 });
  });

  it('refuses a member given twice on every other kind of line', async () => {
    const header = [...lines];
    header[0] = header[0].replace('"filters":{', '"filters":{"tenant":"110000000000000002","tenant":null,');
    expectRefused(await verifyEveryWay(joinLines(header), TRUSTED_KEYS), { reason: 'malformed' }, /twice/);
    const checkpoint = [...lines];
    const at = indexOfCheckpoint(checkpoint, 200);
    checkpoint[at] = checkpoint[at].replace('"treeSize":200', '"treeSize":150,"treeSize":200');
    expectRefused(
      await verifyEveryWay(joinLines(checkpoint), TRUSTED_KEYS),
      { reason: 'malformed' },
      /twice/,
    );
  });

  it('refuses bytes that are not UTF-8 where the entry held U+FFFD', async () => {
    const genuine = Buffer.from(joinLines(lines), 'utf8');
    const replacement = Buffer.from('\uFFFD', 'utf8');
    const at = genuine.indexOf(replacement);
    expect(at).toBeGreaterThan(0);
    // A decoder that replaces invalid bytes reads 0xFF as U+FFFD: the hashes still match.
    const forged = Buffer.concat([genuine.subarray(0, at), Buffer.from([0xff]), genuine.subarray(at + 3)]);
    expect(forged.toString('utf8')).toBe(genuine.toString('utf8'));
    expectRefused(await verifyEveryWay(forged, TRUSTED_KEYS), { reason: 'malformed' }, /not valid UTF-8/);
    expect((await verifyEveryWay(genuine, TRUSTED_KEYS)).ok).toBe(true);
  });

  it('refuses a signature re-spelled with nonzero base64 padding bits', async () => {
    // 64 bytes take 86 characters: the last one's four low bits are padding, which decoders ignore.
    const respell = (signature: string): string => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const last = alphabet.indexOf(signature[85]);
      return signature.slice(0, 85) + alphabet[last | 1] + '==';
    };
    const forged = [...lines];
    const at = indexOfCheckpoint(forged, 100);
    const cp = parseLine(forged[at]);
    forged[at] = JSON.stringify({ ...cp, signature: respell(cp.signature as string) });
    expect(Buffer.from(parseLine(forged[at]).signature as string, 'base64')).toEqual(
      Buffer.from(cp.signature as string, 'base64'),
    );
    expectRefused(await verifyEveryWay(joinLines(forged), TRUSTED_KEYS), {
      reason: 'malformed',
      checkpoint: 100,
    });
    const rotation = [...lines];
    const r = rotation.findIndex((l) => parseLine(l).type === 'key_rotation');
    const record = parseLine(rotation[r]);
    rotation[r] = JSON.stringify({ ...record, signature: respell(record.signature as string) });
    expectRefused(await verifyEveryWay(joinLines(rotation), publicKeyPem(OLD_KEY)), { reason: 'malformed' });
  });
});

describe('times that go backwards', () => {
  const log = buildLog({ size: 600 });
  const lines = bundleLines(log.exportText({ generatedAt: GENERATED_AT }));

  /** The bundle with checkpoint `size` signed again (by the key of the time) with another time. */
  function resigned(source: readonly string[], size: number, time: string): string[] {
    const out = [...source];
    const at = indexOfCheckpoint(out, size);
    const key = time < ROTATION_TIME ? OLD_KEY : NEW_KEY;
    const cp = signCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: log.tree.root(size), time }, key);
    out[at] = JSON.stringify({ type: 'checkpoint', ...cp });
    return out;
  }

  it('refuses a checkpoint dated before a smaller one', async () => {
    // Checkpoint 100 signed late, checkpoint 200 as it was: each is covered by its key, each after its
    // own entries, but the log would have shrunk in time.
    const forged = resigned(lines, 100, '2025-02-01T00:00:00.000Z');
    expectRefused(
      await verifyEveryWay(joinLines(forged), TRUSTED_KEYS),
      { reason: 'backdated', checkpoint: 200 },
      /before the smaller checkpoint 100/,
    );
  });

  it('refuses a checkpoint dated before an entry it covers', async () => {
    const forged = resigned(lines, 100, entryTime(50));
    expectRefused(
      await verifyEveryWay(joinLines(forged), TRUSTED_KEYS),
      { reason: 'backdated', checkpoint: 100, seq: 99 },
      /before the time of entry 99/,
    );
  });

  it('refuses a checkpoint smaller than the --since one but dated after it', async () => {
    const since = log.checkpoints.find((cp) => cp.treeSize === 500) as AuditCheckpoint;
    const forged = resigned(lines, 100, '2025-02-15T00:00:00.000Z');
    expectRefused(await verifyEveryWay(joinLines(forged), TRUSTED_KEYS, since), {
      reason: 'backdated',
      checkpoint: 100,
    });
    expect((await verifyEveryWay(joinLines(lines), TRUSTED_KEYS, since)).ok).toBe(true);
  });
});

describe('a tenant entry hidden before the first one shown', () => {
  const log = buildLog({ size: 600 });
  /** The first entries of tenant A: seq 0, 1, 5, 6, 10, … */
  const firstOfA = log.entries.filter((e) => e.tenant === TENANT_A).slice(0, 3);

  /** A tenant-filtered export of [from, to) written by a lying exporter that omits `hidden`. */
  function exportHiding(from: number, to: number, hidden: number, withPreceding: boolean): string {
    const writer = new AuditBundleWriter({
      origin: ORIGIN,
      from,
      to,
      filters: { tenant: TENANT_A },
      generatedAt: GENERATED_AT,
    });
    const genuine = bundleLines(log.exportText({ from, to, tenant: TENANT_A, generatedAt: GENERATED_AT }));
    const prefixLine = genuine.find((l) => parseLine(l).type === 'prefix') as string;
    const prefix = (parseLine(prefixLine).hashes as string[]).map((h) => Buffer.from(h, 'base64'));
    const out = [writer.header(), writer.prefix(prefix)];
    const preceding = genuine.find((l) => parseLine(l).type === 'preceding');
    if (withPreceding && preceding) out.push(`${preceding}\n`);
    const checkpoints = log.checkpoints.filter((cp) => cp.treeSize > from && cp.treeSize <= to);
    let next = 0;
    for (const entry of log.entries.slice(from, to)) {
      if (next < checkpoints.length && checkpoints[next].treeSize === entry.seq)
        out.push(writer.checkpoint(checkpoints[next++]));
      out.push(entry.seq === hidden ? writer.omit(entry.seq, log.tree.leaf(entry.seq)) : writer.add(entry));
    }
    for (; next < checkpoints.length; next++) out.push(writer.checkpoint(checkpoints[next]));
    out.push(writer.trailer());
    return out.join('');
  }

  it('is detected from the start of the log: the counter begins at 0', async () => {
    expect(firstOfA.map((e) => [e.seq, e.tenantSeq])).toEqual([
      [0, 0],
      [1, 1],
      [5, 2],
    ]);
    expect((await verifyEveryWay(exportHiding(0, 200, -1, false), TRUSTED_KEYS)).ok).toBe(true);
    expectRefused(await verifyEveryWay(exportHiding(0, 200, 0, false), TRUSTED_KEYS), {
      reason: 'missing',
      seq: 1,
    });
  });

  it('is detected within a range: the exporter proves the tenant’s last entry before it', async () => {
    const genuine = log.exportText({ from: 300, to: 400, tenant: TENANT_A, generatedAt: GENERATED_AT });
    const preceding = bundleLines(genuine).find((l) => parseLine(l).type === 'preceding');
    expect(parseLine(preceding as string).entry).toMatchObject({ seq: 296, tenant: TENANT_A });
    expect((await verifyEveryWay(genuine, TRUSTED_KEYS)).ok).toBe(true);
    // Hiding seq 300, the first of the range: caught with the proof, and without it.
    expectRefused(await verifyEveryWay(exportHiding(300, 400, 300, true), TRUSTED_KEYS), {
      reason: 'missing',
      seq: 301,
    });
    expectRefused(await verifyEveryWay(exportHiding(300, 400, 300, false), TRUSTED_KEYS), {
      reason: 'missing',
      seq: 301,
    });
  });

  it('refuses a preceding entry that is not the one in the log', async () => {
    const lines = bundleLines(
      log.exportText({ from: 300, to: 400, tenant: TENANT_A, generatedAt: GENERATED_AT }),
    );
    const at = lines.findIndex((l) => parseLine(l).type === 'preceding');
    const line = parseLine(lines[at]);
    // A later counter, to make room for a hidden entry: its leaf hash recomputed, its path kept.
    const entry = { ...(line.entry as AuditEntry), tenantSeq: (line.entry as AuditEntry).tenantSeq! + 1 };
    const forged = [...lines];
    forged[at] =
      `{"type":"preceding","leafHash":"${auditLeafHash(entry).toString('base64')}",` +
      `"path":${JSON.stringify(line.path)},"entry":${canonicalJson(entry)}}`;
    expectRefused(
      await verifyEveryWay(joinLines(forged), TRUSTED_KEYS),
      { reason: 'altered', seq: 296 },
      /path does not lead to the prefix/,
    );
  });
});
