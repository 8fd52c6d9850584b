import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuditEntry } from './audit-entry';
import { auditLeafHash } from './audit-entry';
import { publicKeyPem } from './audit-keys';
import { AuditBundleWriter } from './audit-bundle-writer';
import { verifyAuditBundle } from './audit-bundle-verifier';
import { BundleVerification, type AuditVerificationResult } from './audit-verification';
import { digestBlock } from './audit-entry-digest';
import { AuditKeyring } from './audit-keys';
import { canonicalJson } from './canonical-json';
import { signCheckpoint, type AuditCheckpoint } from './checkpoint';
import {
  buildLog,
  bundleLines,
  GENERATED_AT,
  indexOfCheckpoint,
  indexOfEntry,
  joinLines,
  NEW_KEY,
  OLD_KEY,
  ORIGIN,
  signerAt,
  parseLine,
  TENANT_A,
  TRUSTED_KEYS,
  UNKNOWN_KEY,
} from './testing/audit-log-fixture';

/**
 * The tamper suite: a genuine 1,050-entry log with a checkpoint every 100 entries (and one at 1,050),
 * exported, then attacked one way at a time. Each attack must be detected with the exact reason and
 * the sequence number or checkpoint where it is.
 */
const log = buildLog();
const genuine = log.exportText({ generatedAt: GENERATED_AT });
const genuineLines = bundleLines(genuine);

function verify(
  lines: readonly string[] | string,
  keys: Parameters<typeof verifyAuditBundle>[1] = TRUSTED_KEYS,
  since?: AuditCheckpoint,
) {
  return verifyAuditBundle(typeof lines === 'string' ? lines : joinLines(lines), keys, { since });
}

function expectFailure(
  result: AuditVerificationResult,
  expected: { reason: string; seq?: number; checkpoint?: number },
) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ reason: result.reason, seq: result.seq, checkpoint: result.checkpoint }).toEqual({
    seq: undefined,
    checkpoint: undefined,
    ...expected,
  });
  expect(result.message.length).toBeGreaterThan(10);
}

/** Rewrites one entry line (optionally keeping its now-wrong leaf hash, as a naive forger would). */
function rewriteEntry(line: string, change: (entry: AuditEntry) => AuditEntry, fixLeafHash: boolean): string {
  const parsed = parseLine(line);
  const entry = change(parsed.entry as AuditEntry);
  const leafHash = fixLeafHash ? auditLeafHash(entry).toString('base64') : parsed.leafHash;
  return JSON.stringify({ type: 'entry', leafHash, entry });
}

function checkpointLine(cp: AuditCheckpoint): string {
  return JSON.stringify({ type: 'checkpoint', ...cp });
}

describe('a genuine bundle', () => {
  it('verifies, with a summary of what was checked', async () => {
    const result = await verify(genuineLines);
    expect(result).toMatchObject({
      ok: true,
      summary: {
        origin: ORIGIN,
        from: 0,
        to: 1050,
        entries: 1050,
        omitted: 0,
        checkpoints: 11,
        newestCheckpoint: { treeSize: 1050, rootHash: log.tree.root().toString('base64') },
        since: null,
      },
    });
    if (result.ok)
      expect(result.summary.keyIds.sort()).toEqual(
        [TRUSTED_KEYS.keys[0].keyId, TRUSTED_KEYS.keys[1].keyId].sort(),
      );
  });

  it('verifies from a stream of small chunks that split lines and UTF-8 characters', async () => {
    const bytes = Buffer.from(genuine, 'utf8');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    expect(genuine).toContain('Überprüfung');
    const result = await verifyAuditBundle(Readable.from(chunks), TRUSTED_KEYS);
    expect(result.ok).toBe(true);
  });

  it('follows the key rotation record when only the old key is trusted (a bare PEM)', async () => {
    expect((await verify(genuineLines, publicKeyPem(OLD_KEY))).ok).toBe(true);
  });

  it('does not trust the old key from the new one alone', async () => {
    expectFailure(await verify(genuineLines, publicKeyPem(NEW_KEY)), {
      reason: 'unknown_key',
      checkpoint: 100,
    });
  });

  it('verifies a tenant-filtered export: other tenants are proven by hashes of omitted runs', async () => {
    const text = log.exportText({ tenant: TENANT_A, generatedAt: GENERATED_AT });
    const lines = bundleLines(text);
    const shown = lines.map(parseLine).filter((l) => l.type === 'entry');
    expect(shown.length).toBe(420);
    expect(shown.every((l) => l.entry?.tenant === TENANT_A)).toBe(true);
    expect(text).not.toContain('"tenant":"110000000000000002"');
    const result = await verify(lines);
    expect(result).toMatchObject({ ok: true, summary: { entries: 420, omitted: 630, checkpoints: 11 } });
  });

  it('verifies an action-filtered export of a sub-range, whose covering checkpoint lies beyond it', async () => {
    const lines = bundleLines(
      log.exportText({
        from: 250,
        to: 730,
        actions: ['account.suspend', 'report.resolve'],
        generatedAt: GENERATED_AT,
      }),
    );
    expect(lines.map(parseLine).filter((l) => l.type === 'range_proof')).toHaveLength(1);
    const result = await verify(lines);
    expect(result).toMatchObject({ ok: true, summary: { from: 250, to: 730, entries: 192, omitted: 288 } });
    if (result.ok) expect(result.summary.newestCheckpoint?.treeSize).toBe(800);
  });

  it('verifies an export consistent with an earlier checkpoint (--since), inside and before the range', async () => {
    const earlier = log.checkpoints.find((cp) => cp.treeSize === 500) as AuditCheckpoint;
    const inside = await verify(
      bundleLines(log.exportText({ generatedAt: GENERATED_AT })),
      TRUSTED_KEYS,
      earlier,
    );
    expect(inside).toMatchObject({ ok: true, summary: { since: { treeSize: 500 } } });
    const later = bundleLines(log.exportText({ from: 600, to: 700, since: 500, generatedAt: GENERATED_AT }));
    expect(later.map(parseLine).some((l) => l.type === 'consistency')).toBe(true);
    expect(await verify(later, TRUSTED_KEYS, earlier)).toMatchObject({
      ok: true,
      summary: { since: { treeSize: 500 } },
    });
  });
});

describe('the tamper suite', () => {
  it('names the entry when one field of one entry is altered', async () => {
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 150);
    lines[at] = rewriteEntry(
      lines[at],
      (e) => ({ ...e, outcome: e.outcome === 'success' ? 'denied' : 'success' }),
      false,
    );
    expectFailure(await verify(lines), { reason: 'altered', seq: 150 });
  });

  it('names the covering checkpoint when the altered entry also carries a recomputed leaf hash', async () => {
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 150);
    lines[at] = rewriteEntry(lines[at], (e) => ({ ...e, details: { note: 'nothing happened' } }), true);
    expectFailure(await verify(lines), { reason: 'altered', checkpoint: 200 });
  });

  it('detects an entry deleted', async () => {
    const lines = [...genuineLines];
    lines.splice(indexOfEntry(lines, 300), 1);
    expectFailure(await verify(lines), { reason: 'missing', seq: 300 });
  });

  it('detects an entry inserted (a forged entry claiming an existing seq)', async () => {
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 400);
    const forged = rewriteEntry(lines[at], (e) => ({ ...e, action: 'tenant.delete' }), true);
    lines.splice(at, 0, forged);
    expectFailure(await verify(lines), { reason: 'inserted', seq: 400 });
  });

  it('detects an entry inserted with a seq outside the range', async () => {
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 400);
    lines.splice(
      at,
      0,
      rewriteEntry(lines[at], (e) => ({ ...e, seq: 5000 }), true),
    );
    expectFailure(await verify(lines), { reason: 'inserted', seq: 5000 });
  });

  it('detects two entries swapped', async () => {
    const lines = [...genuineLines];
    const a = indexOfEntry(lines, 500);
    const b = indexOfEntry(lines, 501);
    [lines[a], lines[b]] = [lines[b], lines[a]];
    expectFailure(await verify(lines), { reason: 'reordered', seq: 500 });
  });

  it('detects the tail truncated: the entries after the last full checkpoint and the checkpoint covering them removed', async () => {
    const cut = genuineLines.slice(0, indexOfEntry(genuineLines, 1000));
    expectFailure(await verify(cut), { reason: 'truncated', seq: 1000 });
    // The same with the trailer kept in place.
    expectFailure(await verify([...cut, genuineLines[genuineLines.length - 1]]), {
      reason: 'truncated',
      seq: 1000,
    });
    // And with the header rewritten to claim the shorter range, so only the trailer's counts remain.
    const header = { ...parseLine(cut[0]), range: { from: 0, to: 1000 } };
    expectFailure(
      await verify([JSON.stringify(header), ...cut.slice(1), genuineLines[genuineLines.length - 1]]),
      {
        reason: 'missing',
        checkpoint: 1000,
      },
    );
  });

  it('detects a checkpoint signed by an unknown key', async () => {
    const lines = [...genuineLines];
    const at = indexOfCheckpoint(lines, 600);
    const original = parseLine(lines[at]) as unknown as AuditCheckpoint;
    lines[at] = checkpointLine(signCheckpoint({ ...original }, UNKNOWN_KEY));
    expectFailure(await verify(lines), { reason: 'unknown_key', checkpoint: 600 });
  });

  it('detects a checkpoint whose signed content was changed', async () => {
    const lines = [...genuineLines];
    const at = indexOfCheckpoint(lines, 400);
    const original = parseLine(lines[at]) as unknown as AuditCheckpoint;
    lines[at] = checkpointLine({ ...original, time: '2025-02-02T00:00:00.000Z' });
    expectFailure(await verify(lines), { reason: 'bad_signature', checkpoint: 400 });
  });

  it('detects a signature from an expired key', async () => {
    const lines = [...genuineLines];
    const at = indexOfCheckpoint(lines, 900);
    const original = parseLine(lines[at]) as unknown as AuditCheckpoint;
    expect(original.time > '2025-03-01').toBe(true);
    lines[at] = checkpointLine(signCheckpoint({ ...original }, OLD_KEY));
    expectFailure(await verify(lines), { reason: 'unknown_key', checkpoint: 900 });
  });

  it('detects two checkpoints of the same size with different roots (a fork), in either order', async () => {
    const at = indexOfCheckpoint(genuineLines, 300);
    const original = parseLine(genuineLines[at]) as unknown as AuditCheckpoint;
    const other = checkpointLine(
      signCheckpoint(
        { ...original, rootHash: Buffer.alloc(32, 7), time: '2025-01-26T12:00:00.000Z' },
        OLD_KEY,
      ),
    );
    const after = [...genuineLines];
    after.splice(at + 1, 0, other);
    expectFailure(await verify(after), { reason: 'fork', checkpoint: 300 });
    const before = [...genuineLines];
    before.splice(at, 0, other);
    expectFailure(await verify(before), { reason: 'fork', checkpoint: 300 });
  });

  it('detects an export inconsistent with an earlier checkpoint (history rewritten and re-signed)', async () => {
    const earlier = log.checkpoints.find((cp) => cp.treeSize === 500) as AuditCheckpoint;
    const rewritten = buildLog({
      rewrite: (input, seq) => (seq === 50 ? { ...input, outcome: 'failure' } : input),
    });
    // The rewritten log is internally valid: every checkpoint was re-signed with the genuine keys …
    const whole = rewritten.exportText({ generatedAt: GENERATED_AT });
    expect((await verify(whole)).ok).toBe(true);
    // … but not with the checkpoint the regulator kept: recomputed at seq 500 inside the range …
    expectFailure(await verify(whole, TRUSTED_KEYS, earlier), { reason: 'inconsistent', checkpoint: 500 });
    // … or through the consistency proof when the range starts later.
    const later = rewritten.exportText({ from: 600, to: 700, since: 500, generatedAt: GENERATED_AT });
    expectFailure(await verify(later, TRUSTED_KEYS, earlier), { reason: 'inconsistent', checkpoint: 500 });
  });

  it('detects a log that shrank below the earlier checkpoint', async () => {
    const earlier = log.checkpoints.find((cp) => cp.treeSize === 1050) as AuditCheckpoint;
    const shorter = buildLog({ size: 1000 }).exportText({ generatedAt: GENERATED_AT });
    expectFailure(await verify(shorter, TRUSTED_KEYS, earlier), { reason: 'inconsistent', checkpoint: 1050 });
  });

  it('detects a checkpoint moved away from the entry it ends at', async () => {
    const lines = [...genuineLines];
    const [moved] = lines.splice(indexOfCheckpoint(lines, 200), 1);
    lines.splice(indexOfEntry(lines, 250), 0, moved);
    expectFailure(await verify(lines), { reason: 'reordered', checkpoint: 200 });
  });

  it('detects a tenant entry hidden among the omitted ones of a filtered export', async () => {
    const hidden = 401; // an entry of tenant A (401 % 5 < 2); the next one is 405
    expect(log.entries[hidden].tenant).toBe(TENANT_A);
    const writer = new AuditBundleWriter({
      origin: ORIGIN,
      from: 0,
      to: 1050,
      filters: { tenant: TENANT_A },
      generatedAt: GENERATED_AT,
    });
    const out = [writer.header(), writer.prefix([])];
    let next = 0;
    for (const entry of log.entries) {
      if (next < log.checkpoints.length && log.checkpoints[next].treeSize === entry.seq)
        out.push(writer.checkpoint(log.checkpoints[next++]));
      out.push(entry.seq === hidden ? writer.omit(entry.seq, log.tree.leaf(entry.seq)) : writer.add(entry));
    }
    out.push(writer.checkpoint(log.checkpoints[next]), writer.trailer());
    // Without the tenant counter, hiding would go unnoticed: the hashes still add up.
    expectFailure(await verify(out.join('')), { reason: 'missing', seq: 405 });
  });

  it('detects entries withheld from an unfiltered export', async () => {
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 700);
    lines[at] = JSON.stringify({
      type: 'omitted',
      from: 700,
      to: 701,
      hashes: [log.tree.leaf(700).toString('base64')],
    });
    expectFailure(await verify(lines), { reason: 'missing', seq: 700 });
  });

  it('detects a tampered prefix or range proof at the checkpoint it feeds', async () => {
    const lines = bundleLines(log.exportText({ from: 250, to: 730, generatedAt: GENERATED_AT }));
    const prefixAt = lines.findIndex((l) => parseLine(l).type === 'prefix');
    const prefix = parseLine(lines[prefixAt]) as unknown as { hashes: string[] };
    const badPrefix = [...lines];
    badPrefix[prefixAt] = JSON.stringify({
      ...prefix,
      hashes: [Buffer.alloc(32).toString('base64'), ...prefix.hashes.slice(1)],
    });
    expectFailure(await verify(badPrefix), { reason: 'altered', checkpoint: 300 });
    const proofAt = lines.findIndex((l) => parseLine(l).type === 'range_proof');
    const proof = parseLine(lines[proofAt]) as unknown as { hashes: string[] };
    const badProof = [...lines];
    badProof[proofAt] = JSON.stringify({
      ...proof,
      hashes: [Buffer.alloc(32).toString('base64'), ...proof.hashes.slice(1)],
    });
    expectFailure(await verify(badProof), { reason: 'altered', checkpoint: 800 });
  });

  it('reports lines that are not part of the format as malformed, with the line number', async () => {
    const lines = [...genuineLines];
    lines.splice(10, 0, 'this is not JSON');
    const result = await verify(lines);
    expectFailure(result, { reason: 'malformed' });
    if (!result.ok) expect(result.line).toBe(11);
    expectFailure(await verify(''), { reason: 'malformed' });
    const badEntry = [...genuineLines];
    const at = indexOfEntry(badEntry, 20);
    badEntry[at] = rewriteEntry(
      badEntry[at],
      (e) => ({ ...e, outcome: 'maybe' as AuditEntry['outcome'] }),
      true,
    );
    expectFailure(await verify(badEntry), { reason: 'malformed', seq: 20 });
  });

  it('detects a bundle cut after its last checkpoint (no trailer)', async () => {
    expectFailure(await verify(genuineLines.slice(0, -1)), { reason: 'truncated', checkpoint: 1050 });
  });

  it('refuses an entry line written otherwise than the exporter writes it, though its content is the same', async () => {
    // Before: members re-ordered, the line's own members too; the leaf hash still matches the content.
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 33);
    const parsed = parseLine(lines[at]) as unknown as { entry: AuditEntry; leafHash: string };
    const reordered = Object.fromEntries(Object.entries(parsed.entry).reverse());
    lines[at] = JSON.stringify({ entry: reordered, leafHash: parsed.leafHash, type: 'entry' }, null, 0);
    expect(lines[at]).not.toContain(canonicalJson(parsed.entry));
    expectFailure(await verify(lines), { reason: 'malformed', seq: 33 });
  });
});

describe('the block path (digested lines, as worker threads and the streaming verifier use)', () => {
  /** The exact path: every line parsed, its entry canonicalised and hashed, one line at a time. */
  function verifyLineByLine(lines: readonly string[], since?: AuditCheckpoint): AuditVerificationResult {
    const verification = new BundleVerification(AuditKeyring.from(TRUSTED_KEYS), since ?? null);
    for (const line of lines) if (!verification.feedLine(line)) break;
    return verification.finish();
  }

  /** Feeds the verification packed digests of blocks of lines, as worker threads return them. */
  function verifyViaDigests(lines: readonly string[], since?: AuditCheckpoint): AuditVerificationResult {
    const verification = new BundleVerification(AuditKeyring.from(TRUSTED_KEYS), since ?? null);
    const text = Buffer.from(joinLines(lines));
    const cuts = [0, Math.floor(lines.length / 3), Math.floor((2 * lines.length) / 3), lines.length];
    let offset = 0;
    for (let i = 1; i < cuts.length; i++) {
      const size = Buffer.byteLength(joinLines(lines.slice(cuts[i - 1], cuts[i])));
      if (!verification.feedBlock(digestBlock([text.subarray(offset, offset + size)]))) break;
      offset += size;
    }
    return verification.finish();
  }

  /** Entry `seq` rewritten with its members in reverse order and spaces, keeping its genuine leaf hash. */
  function reformatted(lines: readonly string[], seq: number): string[] {
    const out = [...lines];
    const at = indexOfEntry(out, seq);
    const parsed = parseLine(out[at]) as unknown as { entry: AuditEntry; leafHash: string };
    const entry = Object.fromEntries(Object.entries(parsed.entry).reverse());
    out[at] =
      `{"type":"entry","leafHash":"${parsed.leafHash}","entry":${JSON.stringify(entry, null, 1)}}`.replace(
        /\n/g,
        ' ',
      );
    return out;
  }

  it('reaches the same verdicts as the exact line-by-line path', async () => {
    const variants: string[][] = [genuineLines];
    const altered = [...genuineLines];
    altered[indexOfEntry(altered, 640)] = rewriteEntry(
      altered[indexOfEntry(altered, 640)],
      (e) => ({ ...e, action: 'x.y' }),
      false,
    );
    variants.push(altered);
    const deleted = [...genuineLines];
    deleted.splice(indexOfEntry(deleted, 333), 1);
    variants.push(deleted);
    const swapped = [...genuineLines];
    const a = indexOfEntry(swapped, 700);
    [swapped[a], swapped[a + 1]] = [swapped[a + 1], swapped[a]];
    variants.push(swapped);
    const malformed = [...genuineLines];
    malformed[indexOfEntry(malformed, 10)] = rewriteEntry(
      malformed[indexOfEntry(malformed, 10)],
      (e) => ({ ...e, seq: -1 }),
      true,
    );
    variants.push(malformed);
    const duplicated = [...genuineLines];
    duplicated.splice(indexOfEntry(duplicated, 90), 0, duplicated[indexOfEntry(duplicated, 90)]);
    variants.push(duplicated);
    variants.push(genuineLines.slice(0, indexOfEntry(genuineLines, 1000)));
    // Written differently but the same content: the exporter's layout with a non-canonical entry, and
    // another member order altogether. Both take the exact path, and neither is what was exported.
    variants.push(reformatted(genuineLines, 77));
    const wrapped = [...genuineLines];
    const w = indexOfEntry(wrapped, 78);
    const line = parseLine(wrapped[w]);
    wrapped[w] = JSON.stringify({ entry: line.entry, leafHash: line.leafHash, type: 'entry' });
    variants.push(wrapped);
    const verdicts = [];
    for (const lines of variants) {
      const exact = verifyLineByLine(lines);
      expect(await verify(lines)).toEqual(exact);
      expect(verifyViaDigests(lines)).toEqual(exact);
      verdicts.push(exact.ok ? 'ok' : exact.reason);
    }
    expect(verdicts).toEqual([
      'ok',
      'altered',
      'missing',
      'reordered',
      'malformed',
      'inserted',
      'truncated',
      'malformed',
      'malformed',
    ]);
    const earlier = log.checkpoints.find((cp) => cp.treeSize === 500) as AuditCheckpoint;
    const exact = verifyLineByLine(genuineLines, earlier);
    expect(exact.ok).toBe(true);
    expect(verifyViaDigests(genuineLines, earlier)).toEqual(exact);
    expect(await verify(genuineLines, TRUSTED_KEYS, earlier)).toEqual(exact);
  });

  it('refuses, at the entry, a forged non-canonical entry that carries the hash of its own bytes', async () => {
    // Its bytes hash to the stated leaf hash, but they are not canonical: the exact path decides, on
    // every path, and names the entry.
    const lines = [...genuineLines];
    const at = indexOfEntry(lines, 150);
    const entry = { ...(parseLine(lines[at]).entry as AuditEntry), details: { note: 'nothing happened' } };
    const body = JSON.stringify(Object.fromEntries(Object.entries(entry).reverse()));
    const forged = Buffer.concat([Buffer.from([0]), Buffer.from(body)]);
    const stated = createHash('sha256').update(forged).digest('base64');
    lines[at] = `{"type":"entry","leafHash":"${stated}","entry":${body}}`;
    expectFailure(verifyLineByLine(lines), { reason: 'altered', seq: 150 });
    expectFailure(await verify(lines), { reason: 'altered', seq: 150 });
    expectFailure(verifyViaDigests(lines), { reason: 'altered', seq: 150 });
  });

  it('agrees with the exact path on non-canonical bytes that the signer itself signed', async () => {
    // A signer (who holds the key) signs a tree over an entry that is not canonical JSON, e.g. with a
    // member given twice, which parsers read differently. Only canonical entries are valid.
    const one = buildLog({ size: 1, every: 1 });
    const lines = bundleLines(one.exportText({ generatedAt: GENERATED_AT }));
    const entryAt = lines.findIndex((l) => parseLine(l).type === 'entry');
    const checkpointAt = lines.findIndex((l) => parseLine(l).type === 'checkpoint');
    const cp = parseLine(lines[checkpointAt]) as unknown as AuditCheckpoint;
    const canonical = canonicalJson(parseLine(lines[entryAt]).entry);

    const bundleOf = (body: Buffer): Buffer => {
      const leaf = createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), body]))
        .digest();
      const signed = signCheckpoint({ ...cp, treeSize: 1, rootHash: leaf }, signerAt(cp.time));
      return Buffer.concat(
        lines.map((l, i) =>
          i === entryAt
            ? Buffer.concat([
                Buffer.from(`{"type":"entry","leafHash":"${leaf.toString('base64')}","entry":`),
                body,
                Buffer.from('}\n'),
              ])
            : Buffer.from(`${i === checkpointAt ? checkpointLine(signed) : l}\n`),
        ),
      );
    };
    const exactly = (bundle: Buffer) => {
      const verification = new BundleVerification(AuditKeyring.from(TRUSTED_KEYS), null);
      for (
        let start = 0, end = bundle.indexOf(10);
        end !== -1;
        start = end + 1, end = bundle.indexOf(10, start)
      ) {
        if (!verification.feedLineBytes(bundle.subarray(start, end))) break;
      }
      return verification.finish();
    };
    const inBlocks = (bundle: Buffer) => {
      const verification = new BundleVerification(AuditKeyring.from(TRUSTED_KEYS), null);
      verification.feedBlock(digestBlock([bundle]));
      return verification.finish();
    };

    const control = bundleOf(Buffer.from(canonical));
    expect(exactly(control)).toMatchObject({ ok: true });
    expect(await verifyAuditBundle(control, TRUSTED_KEYS)).toMatchObject({ ok: true });
    const variants: Buffer[] = [
      Buffer.from(canonical.replace('"action":', '"action":"tenant.delete","action":')),
      Buffer.from(canonical.replace('"tenant":', '"tenant":"999","tenant":')),
      Buffer.from(canonical.replace('{"action"', '{ "action"')),
      Buffer.from(canonical.replace('"details":{', '"details":{"note":"\\ud800",')),
      Buffer.concat([
        Buffer.from(canonical.slice(0, 12)),
        Buffer.from([0xff]),
        Buffer.from(canonical.slice(12)),
      ]),
    ];
    for (const body of variants) {
      const bundle = bundleOf(body);
      const exact = exactly(bundle);
      expect(exact.ok).toBe(false);
      expect(await verifyAuditBundle(bundle, TRUSTED_KEYS)).toEqual(exact);
      expect(await verifyAuditBundle(Readable.from([bundle]), TRUSTED_KEYS, { workers: 1 })).toEqual(exact);
      expect(inBlocks(bundle)).toEqual(exact);
    }
  });
});
