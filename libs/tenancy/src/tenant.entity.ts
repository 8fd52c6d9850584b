import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { NEXT_ID_SQL } from '@townhall/persistence';

export const TENANT_STATUSES = [
  'provisioning',
  'active',
  'suspended',
  'failed',
  'deleting',
  'deleted',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

@Entity({ name: 'cells', schema: 'platform' })
export class CellEntity {
  @PrimaryColumn('text') id: string;
  @Column('text') description: string;
  @Column({ name: 'database_url', type: 'text', nullable: true }) databaseUrl: string | null;
  @Column({ name: 'is_default', type: 'boolean' }) isDefault: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity({ name: 'tenants', schema: 'platform' })
export class TenantEntity {
  @PrimaryColumn({ type: 'bigint', default: () => NEXT_ID_SQL }) id: string;
  @Column('text') slug: string;
  @Column({ name: 'display_name', type: 'text' }) displayName: string;
  @Column({ name: 'admin_email', type: 'text' }) adminEmail: string;
  @Column('text') status: TenantStatus;
  @Column({ name: 'cell_id', type: 'text' }) cellId: string;
  @Column({ name: 'schema_name', type: 'text' }) schemaName: string;
  @Column({ name: 'provisioning_step', type: 'text', nullable: true }) provisioningStep: string | null;
  @Column({ name: 'provisioning_attempts', type: 'integer', default: 0 }) provisioningAttempts: number;
  @Column({ name: 'failure_reason', type: 'text', nullable: true }) failureReason: string | null;
  @Column({ name: 'migration_version', type: 'integer', default: 0 }) migrationVersion: number;
  @Column({ name: 'suspension_reason', type: 'text', nullable: true }) suspensionReason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column({ name: 'activated_at', type: 'timestamptz', nullable: true }) activatedAt: Date | null;
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true }) suspendedAt: Date | null;
  @Column({ name: 'delete_after', type: 'timestamptz', nullable: true }) deleteAfter: Date | null;
  /** What a cancelled deletion restores. */
  @Column({ name: 'status_before_deletion', type: 'text', nullable: true })
  statusBeforeDeletion: TenantStatus | null;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
  /** Bytes of media the tenant may store; null: the platform's TOWNHALL_MEDIA_QUOTA_BYTES. */
  @Column({ name: 'media_quota_bytes', type: 'bigint', nullable: true }) mediaQuotaBytes: string | null;

  @OneToMany(() => TenantDomainEntity, (d) => d.tenant) domains?: Relation<TenantDomainEntity[]>;
}

@Entity({ name: 'tenant_domains', schema: 'platform' })
export class TenantDomainEntity {
  @PrimaryColumn('text') domain: string;
  @Column({ name: 'tenant_id', type: 'bigint' }) tenantId: string;
  @Column({ name: 'is_primary', type: 'boolean', default: true }) isPrimary: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;

  @ManyToOne(() => TenantEntity, (t) => t.domains, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Relation<TenantEntity>;
}

export const TENANCY_ENTITIES = [CellEntity, TenantEntity, TenantDomainEntity];
