import type { AuditStore } from '../audit-ports';
import type { AuditCheckpoint } from '../checkpoint';
import type { AuditedChange, AuditedTransactions } from './audited-transactions';
import { CheckpointAuditLog } from './checkpoint-audit-log';

/** Records what the runner would: the outcome each change ends with. */
function fakeAudited(): { audited: AuditedTransactions; outcomes: string[] } {
  const outcomes: string[] = [];
  const audited = {
    async run<T>(change: AuditedChange<T>): Promise<T> {
      try {
        const result = await change.apply({} as never);
        outcomes.push(`success ${change.recorded(result)?.action}`);
        return result;
      } catch (err) {
        outcomes.push(`failure ${change.refused(err).action}`);
        throw err;
      }
    },
  } as unknown as AuditedTransactions;
  return { audited, outcomes };
}

describe('CheckpointAuditLog', () => {
  const checkpoint = { treeSize: 3 } as AuditCheckpoint;

  it('records the request, then returns the checkpoint that covers it', async () => {
    const { audited, outcomes } = fakeAudited();
    const store = { checkpointNow: jest.fn().mockResolvedValue(checkpoint) } as unknown as AuditStore;
    await expect(new CheckpointAuditLog(audited, store).run()).resolves.toBe(checkpoint);
    expect(outcomes).toEqual(['success audit.checkpoint']);
  });

  it('records a failure after the request when signing fails, and passes the error on', async () => {
    const { audited, outcomes } = fakeAudited();
    const refused = new Error('every signing key is retired');
    const store = { checkpointNow: jest.fn().mockRejectedValue(refused) } as unknown as AuditStore;
    await expect(new CheckpointAuditLog(audited, store).run()).rejects.toBe(refused);
    expect(outcomes).toEqual(['success audit.checkpoint', 'failure audit.checkpoint']);
  });

  it('treats a log that signed nothing as a failure, not as a checkpoint', async () => {
    const { audited, outcomes } = fakeAudited();
    const store = { checkpointNow: jest.fn().mockResolvedValue(null) } as unknown as AuditStore;
    await expect(new CheckpointAuditLog(audited, store).run()).rejects.toThrow('signed no checkpoint');
    expect(outcomes).toEqual(['success audit.checkpoint', 'failure audit.checkpoint']);
  });
});
