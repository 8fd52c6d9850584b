import { auditCsvHeader, auditCsvRow, csvCell } from './audit-csv';
import { AuditBundleWriter } from './audit-bundle-writer';
import { ComplianceError } from './compliance.errors';
import { buildLog, GENERATED_AT, ORIGIN, TENANT_A } from './testing/audit-log-fixture';

const log = buildLog({ size: 250 });

describe('AuditBundleWriter', () => {
  const writer = () => new AuditBundleWriter({ origin: ORIGIN, from: 0, to: 250, generatedAt: GENERATED_AT });

  it('refuses calls that would make a bundle an honest verifier rejects', () => {
    expect(() => writer().prefix([])).toThrow(/follows the header/);
    const w = writer();
    w.header();
    w.prefix([]);
    expect(() => w.entry(log.entries[1])).toThrow(/expected seq 0, got 1/);
    expect(() => w.omit(0, log.tree.leaf(0))).toThrow(/without filters shows every entry/);
    w.entry(log.entries[0]);
    expect(() => w.checkpoint(log.checkpoints[0])).toThrow(/belongs after seq 99/);
    expect(() => w.trailer()).toThrow(/still to come/);
    expect(
      () => new AuditBundleWriter({ origin: ORIGIN, from: 5, to: 4, generatedAt: GENERATED_AT }),
    ).toThrow(ComplianceError);
  });

  it('summarises a run of omitted entries by the roots of its compact range', () => {
    const w = new AuditBundleWriter({
      origin: ORIGIN,
      from: 0,
      to: 250,
      filters: { tenant: TENANT_A },
      generatedAt: GENERATED_AT,
    });
    let text = w.header() + w.prefix([]);
    for (const entry of log.entries.slice(0, 10)) text += w.add(entry, log.tree.leaf(entry.seq));
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; from?: number; to?: number; hashes?: string[] });
    // Seq 2, 3, 4 are not tenant A: one omitted line [2, 5) with the compact range {2..3}, {4}.
    const omitted = lines.find((l) => l.type === 'omitted');
    expect(omitted).toEqual({
      type: 'omitted',
      from: 2,
      to: 5,
      hashes: [log.tree.subtree(1, 1).toString('base64'), log.tree.leaf(4).toString('base64')],
    });
  });
});

describe('the CSV view', () => {
  it('renders one RFC 4180 record per entry and defuses spreadsheet formulas', () => {
    expect(auditCsvHeader()).toBe(
      'seq,time,tenant,tenant_seq,actor_type,actor_id,actor_via,actor_on_behalf_of,action,target_type,target_id,outcome,request_id,details\r\n',
    );
    const row = auditCsvRow({ ...log.entries[7], details: { note: 'a, "b"' } });
    expect(row).toMatch(/^7,2025-01-01T14:00:00\.000Z,/);
    expect(row.endsWith(',"{""note"":""a, \\""b\\""""}"\r\n')).toBe(true);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(null)).toBe('');
  });
});
