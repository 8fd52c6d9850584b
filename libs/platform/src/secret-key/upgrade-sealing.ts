import type { Client } from 'pg';
import { upgradeDirectlySealedSubjects } from '@townhall/compliance';
import { SECRET_KEY_CHECK_FORMAT, type SecretKeyring, type TownhallConfig } from '@townhall/core';
import { sqlState } from '@townhall/persistence';
import { resealCatalogue, UnopenedSecretError } from './reseal';
import { readSecretKeyCheck, select } from './secret-key-check';

/**
 * Moves an installation whose secret key sealed everything itself (check format `…/v1`) to the
 * current scheme, in one transaction on the owner's connection, with the key it was just proved to
 * be: every stored secret sealed with the key (`v1:`) is sealed again with its purpose's subkey, every
 * audit subject's data key is wrapped under a new period key and filed under that key's lookup digest,
 * the legacy lookup key is sealed the current way, and the check value's format becomes `…/v2`. A
 * crash before the commit leaves the installation as it was, for the next start to upgrade; processes
 * of the earlier version refuse to start once it is done (they do not know the format).
 *
 * Not recorded in the audit log, like the platform migrations it follows: it is part of the deployed
 * release, not an action of anyone. Returns a problem in one line, having changed nothing, when the
 * owner lacks a right it needs.
 */
export async function upgradeToSubkeys(
  client: Client,
  config: TownhallConfig,
  keyring: SecretKeyring,
  log: (line: string) => void,
): Promise<string | null> {
  await client.query('BEGIN');
  try {
    // Another process starting at the same time upgrades first; this one then finds nothing left.
    const stored = await readSecretKeyCheck(client, 'FOR UPDATE');
    if (stored?.format === SECRET_KEY_CHECK_FORMAT) {
      await client.query('COMMIT');
      return null;
    }
    const direct = keyring.directSealing();
    const resealed = await resealCatalogue(
      client,
      config,
      (column, sealed, aad) =>
        sealed.startsWith('v1:') ? keyring.box(column.purpose).seal(direct.open(sealed, aad), aad) : null,
      () => undefined,
    );
    const [{ legacy }] = await select<{ legacy: string | null }>(
      client,
      `SELECT audit_legacy_lookup_key_sealed AS legacy FROM platform.secret_key_check WHERE id = 1`,
    );
    const subjects = await upgradeDirectlySealedSubjects(client, keyring, legacy, new Date());
    await client.query(
      `UPDATE platform.secret_key_check SET format = $1, audit_legacy_lookup_key_sealed = $2 WHERE id = 1`,
      [SECRET_KEY_CHECK_FORMAT, subjects.legacyLookupKeySealed],
    );
    await client.query('COMMIT');
    const counts = [...resealed, { label: 'audit subjects', count: subjects.subjects }]
      .map(({ label, count }) => `${count} ${label}`)
      .join(', ');
    log(
      `Sealed the stored secrets with per-purpose subkeys of the secret key and audit period keys (${counts})`,
    );
    return null;
  } catch (err) {
    await client.query('ROLLBACK');
    if (err instanceof UnopenedSecretError) {
      return `${err.message}, although the secret key opened the platform's other secrets: nothing was changed; restore that value from a backup, or delete it if it is not needed`;
    }
    const role = config.database.appRole;
    if (sqlState(err) !== '42501' || !role) throw err;
    return `sealing the stored secrets the current way needs the owner (DATABASE_URL) to act as the application role "${role}", which owns the tenant schemas: grant it the role (GRANT ${role} TO <owner>) or CREATEROLE, then start again`;
  }
}
