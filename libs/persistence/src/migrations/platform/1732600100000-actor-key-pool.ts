import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pre-generated actor key pairs. RSA-2048 generation costs 100–400 ms of CPU; workers keep a small
 * stock so provisioning takes a key instead of waiting for one. Private keys are sealed at rest.
 */
export class ActorKeyPool1732600100000 implements MigrationInterface {
  name = 'ActorKeyPool1732600100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.actor_key_pool (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        public_key_pem text NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.actor_key_pool`);
  }
}
