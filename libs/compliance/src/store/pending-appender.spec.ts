import { PendingAppender } from './pending-appender';

/** An insert the test finishes by hand, recording what each statement held. */
function manualInsert() {
  const statements: { entries: string[]; finish: (err?: Error) => void }[] = [];
  const insert = (entries: string[]) =>
    new Promise<void>((resolve, reject) => {
      statements.push({ entries, finish: (err) => (err ? reject(err) : resolve()) });
    });
  return { statements, insert };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** 'a' sent alone and committed; 'b' and 'c', which arrived meanwhile, sent together as statement 1. */
async function sharingAfterOne(
  appender: PendingAppender<string>,
  statements: ReturnType<typeof manualInsert>['statements'],
) {
  const a = appender.append('a');
  const b = appender.append('b');
  const c = appender.append('c');
  statements[0].finish();
  await a;
  await settled();
  expect(statements[1].entries).toEqual(['b', 'c']);
  return { b, c };
}

describe('PendingAppender (group commit of entries appended on their own)', () => {
  it('sends an entry at once when idle, and what arrives meanwhile together once a statement finishes', async () => {
    const { statements, insert } = manualInsert();
    const appender = new PendingAppender(insert, { maxStatements: 2 });
    const done: string[] = [];
    const append = (entry: string) => appender.append(entry).then(() => done.push(entry));

    const first = [append('a'), append('b')];
    expect(statements.map((s) => s.entries)).toEqual([['a'], ['b']]);
    const waiting = ['c', 'd', 'e', 'f'].map(append);
    expect(statements).toHaveLength(2); // both statements busy: the rest waits

    statements[0].finish();
    await settled();
    expect(done).toEqual(['a']); // resolved only once its own statement committed
    expect(statements.map((s) => s.entries)).toEqual([['a'], ['b'], ['c', 'd', 'e', 'f']]);

    statements[1].finish();
    statements[2].finish();
    await Promise.all([...first, ...waiting]);
    expect(done).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(appender.stats()).toEqual({ statements: 3, entries: 6 });
  });

  it('sends the entries of a failed shared statement again one by one, so only the bad one fails', async () => {
    const { statements, insert } = manualInsert();
    const appender = new PendingAppender(insert, {
      maxStatements: 1,
      entryMayBeAtFault: (err) => (err as Error).message === 'row rejected',
    });
    const { b, c } = await sharingAfterOne(appender, statements);
    statements[1].finish(new Error('row rejected'));
    await settled();
    expect(statements[2].entries).toEqual(['b']);
    statements[2].finish(new Error('b is the bad one'));
    await settled();
    expect(statements[3].entries).toEqual(['c']);
    statements[3].finish();
    await expect(b).rejects.toThrow('b is the bad one');
    await expect(c).resolves.toBeUndefined();

    await settled();
    const d = appender.append('d');
    expect(statements[4].entries).toEqual(['d']);
    statements[4].finish();
    await expect(d).resolves.toBeUndefined();
    expect(appender.stats()).toEqual({ statements: 5, entries: 4 });
  });

  it('fails a whole shared statement at once on an error that is no entry’s fault (its commit is unknown)', async () => {
    const { statements, insert } = manualInsert();
    const appender = new PendingAppender(insert, { maxStatements: 1, entryMayBeAtFault: () => false });
    const { b, c } = await sharingAfterOne(appender, statements);
    statements[1].finish(new Error('connection lost'));
    await expect(b).rejects.toThrow('connection lost');
    await expect(c).rejects.toThrow('connection lost');
    expect(statements).toHaveLength(2); // nothing sent again: it may have committed
  });

  it('caps a statement at maxBatch entries', async () => {
    const { statements, insert } = manualInsert();
    const appender = new PendingAppender(insert, { maxStatements: 1, maxBatch: 3 });
    const all = ['a', 'b', 'c', 'd', 'e', 'f'].map((e) => appender.append(e));
    for (let i = 0; i < 3; i++) {
      statements[i].finish();
      await settled();
    }
    expect(statements.map((s) => s.entries)).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f']]);
    await Promise.all(all);
  });

  it('turns an insert that throws at once into a rejection, and keeps going', async () => {
    let calls = 0;
    const appender = new PendingAppender(() => {
      calls++;
      if (calls === 1) throw new Error('no pool');
      return Promise.resolve();
    });
    await expect(appender.append('a')).rejects.toThrow('no pool');
    await expect(appender.append('b')).resolves.toBeUndefined();
  });
});
