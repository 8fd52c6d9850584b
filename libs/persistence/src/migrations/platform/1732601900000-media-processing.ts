import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media processing: a video or audio upload waiting for its transcoding is scheduled work
 * (`media_processing`, kept due later while a queue job does it, so an upload whose job Redis lost is
 * picked up again), and each tenant may have its own media storage quota (NULL: the platform's setting).
 */
export class MediaProcessing1732601900000 implements MigrationInterface {
  name = 'MediaProcessing1732601900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.scheduled_work DROP CONSTRAINT scheduled_work_kind_check`);
    await q.query(`ALTER TABLE platform.scheduled_work ADD CONSTRAINT scheduled_work_kind_check
                     CHECK (kind IN ('publish_status', 'poll_ended', 'media_processing'))`);
    await q.query(`ALTER TABLE platform.tenants ADD COLUMN media_quota_bytes bigint
                     CHECK (media_quota_bytes >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.tenants DROP COLUMN media_quota_bytes`);
    await q.query(`DELETE FROM platform.scheduled_work WHERE kind = 'media_processing'`);
    await q.query(`ALTER TABLE platform.scheduled_work DROP CONSTRAINT scheduled_work_kind_check`);
    await q.query(`ALTER TABLE platform.scheduled_work ADD CONSTRAINT scheduled_work_kind_check
                     CHECK (kind IN ('publish_status', 'poll_ended'))`);
  }
}
