import { fakeAuditStack, type FakeAuditStack } from '@townhall/compliance/testing';
import { AuditContext, systemAuditContext } from './audit-context';
import { CheckpointAuditLog } from './checkpoint-audit-log';

describe('CheckpointAuditLog', () => {
  let stack: FakeAuditStack;

  beforeEach(() => {
    stack = fakeAuditStack();
  });

  const run = () =>
    AuditContext.run(systemAuditContext('test'), () =>
      new CheckpointAuditLog(stack.audited, stack.store).run(),
    );

  /** What the log holds: each entry's action and outcome. */
  const outcomes = () => stack.store.entries().map((e) => `${e.outcome} ${e.action}`);

  it('records the request, then returns the checkpoint that covers it', async () => {
    const checkpoint = await run();
    expect(outcomes()).toEqual(['success audit.checkpoint']);
    expect(checkpoint.treeSize).toBe(1);
  });

  it('records a failure after the request when signing fails, and passes the error on', async () => {
    const refused = new Error('every signing key is retired');
    jest.spyOn(stack.store, 'checkpointNow').mockRejectedValue(refused);
    await expect(run()).rejects.toBe(refused);
    expect(outcomes()).toEqual(['success audit.checkpoint', 'failure audit.checkpoint']);
    expect(stack.store.entries()[1].details).toEqual({ error: 'internal_error' });
  });

  it('treats a log that signed nothing as a failure, not as a checkpoint', async () => {
    jest.spyOn(stack.store, 'checkpointNow').mockResolvedValue(null);
    await expect(run()).rejects.toThrow('signed no checkpoint');
    expect(outcomes()).toEqual(['success audit.checkpoint', 'failure audit.checkpoint']);
  });
});
