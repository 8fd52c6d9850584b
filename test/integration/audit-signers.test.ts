import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import {
  AuditContext,
  AuditOwnerConnection,
  auditKeyId,
  benchEntryInput,
  DatabaseAuditStore,
  RotateAuditKey,
  systemAuditContext,
  verifyAuditBundle,
} from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

/**
 * Audit signing keys held outside the database, through a signer module (TOWNHALL_AUDIT_SIGNER_MODULE):
 * the shape a KMS or an HSM plugs into. Here the module is test/support/audit-signer-module.js, whose
 * "KMS" is a list of PEM files; Townhall must sign with them without ever storing a private key, rotate
 * onto them from a key it generated, and refuse a signer that answers with anything but its signature.
 */
const MODULE = resolve(__dirname, '../support/audit-signer-module.js');
const KEYS_ENV = 'TOWNHALL_TEST_AUDIT_SIGNER_KEYS';
const CORRUPT_ENV = 'TOWNHALL_TEST_AUDIT_SIGNER_CORRUPT';

interface Platform {
  app: INestApplicationContext;
  store: DatabaseAuditStore;
  owner: DataSource;
}

async function start(config: TownhallConfig, signerModule?: string): Promise<Platform> {
  const moduleRef = await Test.createTestingModule({
    imports: [PlatformModule.forRoot({ ...config, audit: { ...config.audit, signerModule } })],
  }).compile();
  const app = await moduleRef.init();
  return {
    app,
    store: app.get(DatabaseAuditStore),
    owner: await app.get(AuditOwnerConnection).dataSource(),
  };
}

let appended = 0;
async function appendSome(p: Platform, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await p.store.appendAlone(benchEntryInput(appended++, Date.UTC(2025, 0, 1)));
}

async function exported(p: Platform): Promise<string> {
  let text = '';
  for await (const line of p.store.exportBundle({})) text += line;
  return text;
}

async function privateKeysStored(p: Platform): Promise<string[]> {
  const rows = (await p.owner.query(
    `SELECT key_id FROM platform.audit_signing_keys WHERE private_key_sealed IS NOT NULL ORDER BY key_id`,
  )) as { key_id: string }[];
  return rows.map((r) => r.key_id);
}

describe('audit signing keys held outside the database (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let dir: string;
  const opened: Platform[] = [];
  const kms: { path: string; keyId: string }[] = [];

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    await preparePlatform(config, { migrate: true });
    dir = mkdtempSync(join(tmpdir(), 'townhall-kms-'));
    for (const name of ['first', 'second']) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const path = join(dir, `${name}.pem`);
      writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      kms.push({ path, keyId: auditKeyId(privateKey) });
    }
    process.env[KEYS_ENV] = kms.map((k) => k.path).join(',');
  });

  afterAll(async () => {
    delete process.env[KEYS_ENV];
    delete process.env[CORRUPT_ENV];
    for (const p of opened) await p.app.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  async function platform(signerModule?: string): Promise<Platform> {
    const p = await start(config, signerModule);
    opened.push(p);
    return p;
  }

  it('rotates from the key Townhall generated onto a key of the module, deleting the old private half', async () => {
    const plain = await platform();
    await appendSome(plain, 3);
    const first = await plain.store.checkpointNow();
    const [generated] = await plain.store.keys();
    expect(await privateKeysStored(plain)).toEqual([generated.keyId]);

    const withKms = await platform(MODULE);
    const rotate = (keyId: string | null) =>
      AuditContext.run(systemAuditContext('key-ceremony'), () => withKms.app.get(RotateAuditKey).run(keyId));
    await expect(rotate(null)).rejects.toThrow(/offers several new keys .*: name one/);
    await expect(rotate('0000000000000000')).rejects.toThrow(/offers no key 0000000000000000/);
    const { key, rotation } = await rotate(kms[0].keyId);
    expect(key.keyId).toBe(kms[0].keyId);
    expect(rotation?.previousKeyId).toBe(generated.keyId);
    // Neither key has a private half in the database now: the old one is deleted, the new one never was.
    expect(await privateKeysStored(withKms)).toEqual([]);

    await appendSome(withKms, 2);
    const signed = await withKms.store.checkpointNow();
    expect(signed?.keyId).toBe(kms[0].keyId);
    expect(signed!.treeSize).toBeGreaterThan(first!.treeSize);
    const bundle = await exported(withKms);
    expect(await verifyAuditBundle(bundle, { keys: await withKms.store.keys() })).toMatchObject({ ok: true });
    // A verifier that holds only the generated key follows the rotation record to the module's key.
    expect(await verifyAuditBundle(bundle, generated.publicKeyPem)).toMatchObject({ ok: true });
    // With one new key left in the module, it is chosen without being named.
    const next = await rotate(null);
    expect(next.key.keyId).toBe(kms[1].keyId);
  });

  it('signs nothing when no signer holds the current key, and says why', async () => {
    const plain = await platform();
    await appendSome(plain, 1);
    await expect(plain.store.checkpointNow()).rejects.toThrow(
      new RegExp(
        `key ${kms[1].keyId} is held outside the database, and no audit signer module is configured`,
      ),
    );
  });

  it('refuses a signature the signer got wrong, storing no checkpoint', async () => {
    const withKms = await platform(MODULE);
    const before = await withKms.store.newestCheckpoint();
    process.env[CORRUPT_ENV] = '1';
    try {
      await expect(withKms.store.checkpointNow()).rejects.toThrow(
        /returned something that is not its Ed25519 signature/,
      );
    } finally {
      delete process.env[CORRUPT_ENV];
    }
    expect(await withKms.store.newestCheckpoint()).toEqual(before);
    expect((await withKms.store.checkpointNow())?.keyId).toBe(kms[1].keyId);
  });

  it('makes the module’s key the first key of a new log, without a private half stored', async () => {
    const fresh = await createTestDatabase({ TOWNHALL_WORKERS: 'false' });
    await preparePlatform(fresh.config, { migrate: true });
    process.env[KEYS_ENV] = kms[0].path;
    const p = await start(fresh.config, MODULE);
    try {
      await appendSome(p, 2);
      expect(await p.store.checkpointNow()).toMatchObject({ keyId: kms[0].keyId });
      expect(await privateKeysStored(p)).toEqual([]);
    } finally {
      process.env[KEYS_ENV] = kms.map((k) => k.path).join(',');
      await p.app.close();
      await fresh.drop();
    }
  });
});
