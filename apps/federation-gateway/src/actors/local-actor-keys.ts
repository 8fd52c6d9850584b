import { Injectable } from '@nestjs/common';
import { generateActorKeyPair } from '@townhall/activitypub';
import { SecretBox, SecretKeyring } from '@townhall/core';
import { actorKeyAad } from '@townhall/persistence';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';

/**
 * Each local account's RSA-2048 key pair, in the tenant's `actor_keys`, the private half sealed with
 * the secret key's `actor-keys` subkey and bound to the schema and key id (sealed-secrets.ts). The
 * instance actor gets its key at provisioning; a person's key is made the first time the account is
 * shown to another server or signs for it. Generation runs before the transaction (no lock held during
 * CPU work), and two requests racing to make one key keep the first one stored.
 */
@Injectable()
export class LocalActorKeys {
  private readonly box: SecretBox;

  constructor(
    private readonly transactions: TenantTransactions,
    keyring: SecretKeyring,
  ) {
    this.box = keyring.box('actor-keys');
  }

  /** The account's public key, made now if it has none. */
  async publicKey(accountId: string, keyId: string): Promise<string> {
    const existing = await this.transactions.run((m) => this.read(m, accountId));
    if (existing) return existing.public_key_pem;
    const pair = await generateActorKeyPair();
    const schema = TenantContext.current().schema;
    return this.transactions.run(async (m) => {
      await m.query(
        `INSERT INTO actor_keys (account_id, key_id, public_key_pem, private_key_sealed)
         VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO NOTHING`,
        [accountId, keyId, pair.publicKeyPem, this.box.seal(pair.privateKeyPem, actorKeyAad(schema, keyId))],
      );
      return (await this.read(m, accountId))!.public_key_pem;
    });
  }

  /** The account's signing key (key id and private key), for signing requests as it. */
  async signingKey(accountId: string): Promise<{ keyId: string; privateKeyPem: string } | null> {
    const schema = TenantContext.current().schema;
    const row = await this.transactions.run(async (m) => {
      const rows = (await m.query(`SELECT key_id, private_key_sealed FROM actor_keys WHERE account_id = $1`, [
        accountId,
      ])) as Array<{ key_id: string; private_key_sealed: string }>;
      return rows[0];
    });
    if (!row) return null;
    return {
      keyId: row.key_id,
      privateKeyPem: this.box.open(row.private_key_sealed, actorKeyAad(schema, row.key_id)),
    };
  }

  private async read(m: import('typeorm').EntityManager, accountId: string) {
    const rows = (await m.query(`SELECT key_id, public_key_pem FROM actor_keys WHERE account_id = $1`, [
      accountId,
    ])) as Array<{
      key_id: string;
      public_key_pem: string;
    }>;
    return rows[0];
  }
}
