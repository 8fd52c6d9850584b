import type { INestApplicationContext } from '@nestjs/common';
import { DataSource, Not } from 'typeorm';
import { isId } from '@townhall/persistence';
import { ProvisioningError } from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { printFields, printJson, printLine, printTable } from './cli-output';

/** A tenant as the CLI shows it to people and scripts. */
export interface TenantView {
  id: string;
  slug: string;
  displayName: string;
  adminEmail: string;
  status: string;
  primaryDomain: string | null;
  domains: string[];
  schema: string;
  cellId: string;
  provisioningStep: string | null;
  provisioningAttempts: number;
  failureReason: string | null;
  migrationVersion: number;
  suspensionReason: string | null;
  createdAt: string;
  activatedAt: string | null;
  suspendedAt: string | null;
  deleteAfter: string | null;
  deletedAt: string | null;
}

export function tenantView(t: TenantEntity): TenantView {
  const domains = [...(t.domains ?? [])].sort(
    (a, b) => Number(b.isPrimary) - Number(a.isPrimary) || a.domain.localeCompare(b.domain),
  );
  return {
    id: t.id,
    slug: t.slug,
    displayName: t.displayName,
    adminEmail: t.adminEmail,
    status: t.status,
    primaryDomain: domains.find((d) => d.isPrimary)?.domain ?? null,
    domains: domains.map((d) => d.domain),
    schema: t.schemaName,
    cellId: t.cellId,
    provisioningStep: t.provisioningStep,
    provisioningAttempts: t.provisioningAttempts,
    failureReason: t.failureReason,
    migrationVersion: t.migrationVersion,
    suspensionReason: t.suspensionReason,
    createdAt: iso(t.createdAt)!,
    activatedAt: iso(t.activatedAt),
    suspendedAt: iso(t.suspendedAt),
    deleteAfter: iso(t.deleteAfter),
    deletedAt: iso(t.deletedAt),
  };
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/**
 * Finds the tenant an operator means: an id, a slug or one of its domains (in any case, with or
 * without a trailing dot).
 */
export async function findTenant(context: INestApplicationContext, reference: string): Promise<TenantEntity> {
  const registry = context.get(TenantRegistry);
  const ref = reference.trim();
  if (isId(ref)) {
    const byId = await registry.findById(ref);
    if (byId) return byId;
  }
  if (ref.includes('.') || ref === 'localhost') {
    const byHost = await registry.findByHost(ref);
    if (byHost) return (await registry.findById(byHost.tenant.id))!;
  }
  // A slug is unique among live tenants; once none holds it, the latest deleted one is meant.
  const repo = context.get(DataSource).getRepository(TenantEntity);
  const bySlug =
    (await repo.findOne({ where: { slug: ref, status: Not('deleted') }, relations: { domains: true } })) ??
    (await repo.findOne({ where: { slug: ref }, order: { id: 'DESC' }, relations: { domains: true } }));
  if (bySlug) return bySlug;
  throw new ProvisioningError('tenant_not_found', `No tenant has the id, slug or domain "${reference}".`);
}

/** One tenant in full: every field for a person, or the tenant as JSON. */
export function printTenant(tenant: TenantEntity, json: boolean | undefined): void {
  if (json) printJson(tenantView(tenant));
  else printTenantFields(tenantView(tenant));
}

function printTenantFields(t: TenantView): void {
  printFields(
    [
      ['id', t.id],
      ['slug', t.slug],
      ['display name', t.displayName],
      ['admin email', t.adminEmail],
      ['status', t.status],
      ['domains', t.domains.join(', ')],
      ['schema', `${t.schema} (cell ${t.cellId}, version ${t.migrationVersion})`],
      ['provisioning step', t.provisioningStep],
      ['failure reason', t.failureReason],
      ['suspension reason', t.suspensionReason],
      ['created', t.createdAt],
      ['activated', t.activatedAt],
      ['suspended', t.suspendedAt],
      ['delete after', t.deleteAfter],
      ['deleted', t.deletedAt],
    ].filter(([, value]) => value !== null) as [string, string][],
  );
}

export function printTenantTable(tenants: TenantView[]): void {
  printTable(
    ['id', 'slug', 'status', 'domain', 'version', 'created'],
    tenants.map((t) => [t.id, t.slug, t.status, t.primaryDomain, t.migrationVersion, t.createdAt]),
  );
}

/** The result of a lifecycle command: the tenant as JSON, or one sentence for a person. */
export function printTransition(tenant: TenantEntity, json: boolean | undefined, sentence: string): void {
  if (json) printJson(tenantView(tenant));
  else printLine(`Tenant ${tenant.slug} (${tenant.id}) ${sentence}.`);
}
