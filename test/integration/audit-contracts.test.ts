import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource, EntityManager } from 'typeorm';
import { AuditedTransactions, AuditStore, AuditSubjectStore } from '@townhall/compliance';
import {
  auditedTransactionsContract,
  auditStoreContract,
  auditSubjectStoreContract,
} from '@townhall/compliance/testing';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

/**
 * The real adapters of the audit log against the machine's PostgreSQL, held to the contracts their
 * in-memory fakes pass in unit specs (libs/compliance/src/testing/fake-audit.spec.ts). Each contract
 * gets a database of its own, so it starts from an empty log.
 */
const opened: { app: INestApplicationContext; drop: () => Promise<void> }[] = [];

async function platform(): Promise<INestApplicationContext> {
  const { config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' });
  await preparePlatform(config, { migrate: true });
  const app = await (
    await Test.createTestingModule({ imports: [PlatformModule.forRoot(config)] }).compile()
  ).init();
  opened.push({ app, drop });
  return app;
}

afterAll(async () => {
  for (const { app, drop } of opened) {
    await app.close();
    await drop();
  }
});

const inTransaction = (app: INestApplicationContext) => {
  const ds = app.get(DataSource);
  return <T>(work: (manager: EntityManager) => Promise<T>) => ds.transaction(work);
};

auditStoreContract('the PostgreSQL store', async () => {
  const app = await platform();
  return { store: app.get(AuditStore), transaction: inTransaction(app) };
});

auditSubjectStoreContract('the PostgreSQL side table', async () => {
  const app = await platform();
  return {
    subjects: app.get(AuditSubjectStore),
    transaction: inTransaction(app),
    manager: app.get(DataSource).manager,
  };
});

auditedTransactionsContract('the runner and recorder on PostgreSQL', async () => {
  const app = await platform();
  const ds = app.get(DataSource);
  // A table of the test's own stands for whatever a use case changes.
  await ds.query(`CREATE SCHEMA contract_test`);
  await ds.query(`CREATE TABLE contract_test.changes (key text PRIMARY KEY)`);
  return {
    audited: app.get(AuditedTransactions),
    store: app.get(AuditStore),
    write: async (manager, key) => {
      await manager.query(`INSERT INTO contract_test.changes (key) VALUES ($1)`, [key]);
    },
    written: async (key) =>
      ((await ds.query(`SELECT 1 FROM contract_test.changes WHERE key = $1`, [key])) as unknown[]).length ===
      1,
  };
});
