import { ApiProperty } from '@nestjs/swagger';
import { TENANT_STATUSES, TenantEntity, TenantStatus } from '@townhall/tenancy';

export const TENANTS_PATH = '/api/platform/v1/tenants';

export function tenantPath(id: string): string {
  return `${TENANTS_PATH}/${id}`;
}

/** A tenant as the operator API shows it. Built only by `toTenantView`. */
export class TenantView {
  @ApiProperty({ example: '7380412938240000001' }) id: string;
  @ApiProperty({ example: 'bmi' }) slug: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The primary domain; null once a deleted tenant released it',
    example: 'social.bmi.example',
  })
  domain: string | null;
  @ApiProperty({ type: [String], description: 'All domains, primary first' }) domains: string[];
  @ApiProperty() displayName: string;
  @ApiProperty() adminEmail: string;
  @ApiProperty({ enum: TENANT_STATUSES }) status: TenantStatus;
  @ApiProperty({
    description: 'The PostgreSQL schema holding the tenant’s data',
    example: 'tenant_7380412938240000001',
  })
  schema: string;
  @ApiProperty({ description: 'The database cell the schema lives in', example: 'default' }) cell: string;
  @ApiProperty({ type: String, nullable: true, description: 'Last completed provisioning step' })
  provisioningStep: string | null;
  @ApiProperty({ type: String, nullable: true }) failureReason: string | null;
  @ApiProperty({ description: 'Version of the tenant schema' }) migrationVersion: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) activatedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) suspendedAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When a pending deletion drops the schema',
  })
  deleteAfter: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deletedAt: string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "The tenant's own media quota in bytes (0: none); null follows the platform's setting",
  })
  mediaQuotaBytes: number | null;
}

/** What a tenant's media take up, against its quota. */
export class MediaUsageView {
  @ApiProperty({ description: 'Bytes stored: originals and previews of every attachment' }) usedBytes: number;
  @ApiProperty({ description: 'Attachments stored, including those still processing' }) attachments: number;
  @ApiProperty({ type: 'integer', description: 'The quota in force, in bytes; 0: none' }) quotaBytes: number;
  @ApiProperty({
    enum: ['tenant', 'platform'],
    description: 'Whether the quota is the tenant’s own or the platform’s',
  })
  quotaSource: 'tenant' | 'platform';
}

export class TenantPageView {
  @ApiProperty({ type: [TenantView] }) items: TenantView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor to get the next page; null on the last page',
  })
  nextCursor: string | null;
}

export function toTenantView(tenant: TenantEntity): TenantView {
  const domains = [...(tenant.domains ?? [])]
    .sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary) || a.domain.localeCompare(b.domain))
    .map((d) => d.domain);
  return {
    id: tenant.id,
    slug: tenant.slug,
    domain: tenant.domains?.find((d) => d.isPrimary)?.domain ?? domains[0] ?? null,
    domains,
    displayName: tenant.displayName,
    adminEmail: tenant.adminEmail,
    status: tenant.status,
    schema: tenant.schemaName,
    cell: tenant.cellId,
    provisioningStep: tenant.provisioningStep,
    failureReason: tenant.failureReason,
    migrationVersion: tenant.migrationVersion,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
    activatedAt: iso(tenant.activatedAt),
    suspendedAt: iso(tenant.suspendedAt),
    deleteAfter: iso(tenant.deleteAfter),
    deletedAt: iso(tenant.deletedAt),
    mediaQuotaBytes: tenant.mediaQuotaBytes === null ? null : Number(tenant.mediaQuotaBytes),
  };
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
