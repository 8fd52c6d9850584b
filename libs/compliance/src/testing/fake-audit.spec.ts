import type { EntityManager } from 'typeorm';
import {
  auditedTransactionsContract,
  auditStoreContract,
  auditSubjectStoreContract,
  fakeAuditStack,
  FakeAuditStore,
  FakeAuditSubjectStore,
  FakeDataSource,
  fakeTransactionOf,
} from '.';

/** The fakes unit specs use pass the contracts the real adapters pass (test/integration/audit-contracts.test.ts). */
auditStoreContract('the in-memory fake', () => {
  const dataSource = new FakeDataSource();
  return Promise.resolve({
    store: new FakeAuditStore(),
    transaction: (work) => dataSource.transaction(work),
  });
});

auditSubjectStoreContract('the in-memory fake', () => {
  const dataSource = new FakeDataSource();
  return Promise.resolve({
    subjects: new FakeAuditSubjectStore().asSubjectStore(),
    transaction: (work) => dataSource.transaction(work),
    manager: dataSource.manager,
  });
});

auditedTransactionsContract('the real runner and recorder on the fakes', () => {
  const { audited, store, dataSource } = fakeAuditStack();
  const committed = new Set<string>();
  return Promise.resolve({
    audited,
    store,
    write: (manager: EntityManager, key: string) => {
      fakeTransactionOf(manager)!.onCommit(() => committed.add(key));
      return Promise.resolve();
    },
    written: (key: string) => Promise.resolve(committed.has(key)),
    dataSource,
  });
});
