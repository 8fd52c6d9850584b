import { verifyAuditBundle } from '../audit-bundle-verifier';
import type { AuditCheckpoint } from '../checkpoint';
import { buildLog, bundleLines, GENERATED_AT, parseLine, TRUSTED_KEYS } from '../testing/audit-log-fixture';

/**
 * Empty ranges (`from == to`) through the in-memory reference log, which exports with AuditExport as
 * the database store does: each must give a bundle the verifier accepts, with and without `since`.
 * The 1,050-entry fixture has checkpoints at 100, 200, …, 1000 and 1050.
 */
const log = buildLog();
const checkpointOf = (size: number): AuditCheckpoint => {
  const cp = log.checkpoints.find((c) => c.treeSize === size);
  if (!cp) throw new Error(`no checkpoint of size ${size}`);
  return cp;
};

function checkpointSizes(text: string): number[] {
  return bundleLines(text)
    .map(parseLine)
    .filter((line) => line.type === 'checkpoint')
    .map((line) => line.treeSize as number);
}

describe('AuditExport of an empty range', () => {
  const cases: [string, number, number[], number[]][] = [
    // [where, from = to, checkpoints without since, checkpoints with since 100]
    ['at 0', 0, [], [1050]],
    ['at a checkpoint’s size', 200, [200], [200, 1050]],
    ['between two checkpoints', 250, [], [1050]],
    ['at the newest checkpoint’s size', 1050, [1050], [1050]],
  ];

  it.each(cases)('%s verifies, without since', async (_, at, sizes) => {
    const text = log.exportText({ from: at, to: at, generatedAt: GENERATED_AT });
    expect(checkpointSizes(text)).toEqual(sizes);
    expect(await verifyAuditBundle(text, TRUSTED_KEYS)).toMatchObject({
      ok: true,
      summary: { from: at, to: at, entries: 0, checkpoints: sizes.length },
    });
  });

  it.each(cases)(
    '%s verifies with since, proving the newest checkpoint extends it',
    async (_, at, __, sizes) => {
      const text = log.exportText({ from: at, to: at, since: 100, generatedAt: GENERATED_AT });
      expect(checkpointSizes(text)).toEqual(sizes);
      const result = await verifyAuditBundle(text, TRUSTED_KEYS, { since: checkpointOf(100) });
      expect(result).toMatchObject({
        ok: true,
        summary: {
          checkpoints: sizes.length,
          newestCheckpoint: { treeSize: 1050 },
          since: { treeSize: 100 },
        },
      });
    },
  );

  it('verifies at the newest size with since the newest itself', async () => {
    const text = log.exportText({ from: 1050, to: 1050, since: 1050, generatedAt: GENERATED_AT });
    const result = await verifyAuditBundle(text, TRUSTED_KEYS, { since: checkpointOf(1050) });
    expect(result).toMatchObject({ ok: true, summary: { checkpoints: 1, since: { treeSize: 1050 } } });
  });
});
