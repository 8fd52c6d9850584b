import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ActorKeyPair, generateActorKeyPair } from '@townhall/activitypub';
import { SecretBox, SecretKeyring, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { ACTOR_KEY_POOL_AAD } from '@townhall/persistence';

/**
 * A stock of pre-generated actor key pairs, so provisioning a tenant takes a key in a millisecond
 * instead of spending 100–400 ms of CPU on RSA generation while the tenant waits. The CPU cost is the
 * same; it is paid ahead, one key at a time, by worker processes when the stock runs low.
 *
 * Taking a key happens inside the caller's transaction (DELETE … SKIP LOCKED): if that transaction
 * rolls back, the key is back in the pool; if it commits, no one else can ever have it.
 */
@Injectable()
export class ActorKeyPool implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ActorKeyPool.name);
  private refilling: Promise<number> | undefined;
  private stopped = false;
  private readonly secrets: SecretBox;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    keyring: SecretKeyring,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    this.secrets = keyring.box('actor-keys');
  }

  /** Takes one key pair out of the pool within `manager`'s transaction, or returns null if the pool is empty. */
  async take(manager: EntityManager): Promise<ActorKeyPair | null> {
    const [row] = (await manager.query(
      `WITH taken AS (
         DELETE FROM platform.actor_key_pool
          WHERE id = (SELECT id FROM platform.actor_key_pool ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING public_key_pem, private_key_sealed)
       SELECT * FROM taken`,
    )) as { public_key_pem: string; private_key_sealed: string }[];
    if (!row) return null;
    return {
      publicKeyPem: row.public_key_pem,
      privateKeyPem: this.secrets.open(row.private_key_sealed, ACTOR_KEY_POOL_AAD),
    };
  }

  /** Whether any key is in stock: an index probe, where size() counts the whole table. */
  async hasKeys(): Promise<boolean> {
    const [{ any }] = (await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM platform.actor_key_pool) AS any`,
    )) as [{ any: boolean }];
    return any;
  }

  async size(): Promise<number> {
    const [{ n }] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM platform.actor_key_pool`,
    )) as [{ n: number }];
    return n;
  }

  /**
   * Tops the pool up to `target` (default: the configured size), one key at a time so a refill never
   * competes with live work for more than one core. Concurrent calls share one refill.
   */
  refill(target = this.config.provisioning.keyPoolSize): Promise<number> {
    this.refilling ??= this.fill(target).finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  /** Starts a refill without waiting for it; failures are logged, not thrown. */
  refillInBackground(): void {
    if (this.config.provisioning.keyPoolSize === 0) return;
    this.refill().catch((err: unknown) => this.logger.warn({ err }, 'Actor key pool refill failed'));
  }

  /** Lets a key being generated finish (at most one) before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.refilling?.catch(() => undefined);
  }

  private async fill(target: number): Promise<number> {
    let added = 0;
    while (!this.stopped && (await this.size()) < target) {
      const keys = await generateActorKeyPair();
      await this.dataSource.query(
        `INSERT INTO platform.actor_key_pool (public_key_pem, private_key_sealed) VALUES ($1, $2)`,
        [keys.publicKeyPem, this.secrets.seal(keys.privateKeyPem, ACTOR_KEY_POOL_AAD)],
      );
      added++;
    }
    return added;
  }
}
