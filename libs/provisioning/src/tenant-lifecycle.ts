import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { EntityManager, QueryFailedError } from 'typeorm';
import { AuditedTransactions, AuditPersonalData, AuditTarget, JsonValue } from '@townhall/compliance';
import {
  checkText,
  hostSkeleton,
  isSameOrBeneath,
  TOWNHALL_CONFIG,
  type TownhallConfig,
} from '@townhall/core';
import { isId, TENANT_DOMAIN_SKELETON_INDEX } from '@townhall/persistence';
import {
  TenantChanges,
  tenantSchemaName,
  TenantEntity,
  TenantRegistry,
  TenantStatus,
} from '@townhall/tenancy';
import { DeleteTenantCommand, ProvisionTenantCommand, SUSPENSION_REASON_RULE, valid } from './commands';
import { tenantTarget } from './provisioning-audit';
import { ProvisioningError } from './provisioning.errors';
import {
  DropTenantSchemaJob,
  PROVISIONING_QUEUE,
  ProvisionTenantJob,
  TenantJobPayload,
} from './provisioning.queue';

/** What a transition changed, for its audit entry: the status it led to, and any particulars. */
type TransitionDetails = { to: TenantStatus } & { [member: string]: JsonValue };

/** Free text an operator typed for a transition: kept out of the entry (see `AuditRecordInput.authored`). */
type TransitionText = Record<string, string>;

/**
 * The operator's use cases over a tenant's life: provision, suspend, resume, retry, delete. Each
 * checks the current state under the tenant row's lock and commits the transition before any job is
 * queued; the job queue is only a doorbell — the reconciler re-rings it for any tenant whose state says
 * work is due, so a lost Redis job or a crash between commit and enqueue loses nothing.
 *
 * Every use case is audited (`tenant.create`, `tenant.suspend`, …) in the transaction of its change,
 * and a refused one (a taken slug, an unknown tenant, a status that does not allow it) is recorded
 * with outcome `failure`. The actor comes from the audit context of the request or command.
 */
@Injectable()
export class TenantLifecycle {
  constructor(
    private readonly registry: TenantRegistry,
    @InjectQueue(PROVISIONING_QUEUE) private readonly queue: Queue<TenantJobPayload>,
    private readonly audited: AuditedTransactions,
    private readonly changes: TenantChanges,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async provision(command: ProvisionTenantCommand): Promise<TenantEntity> {
    const registered = { slug: command.slug, domain: command.domain };
    const tenant = await this.audited.run({
      apply: (manager) => this.register(manager, command),
      recorded: (created) => ({
        action: 'tenant.create',
        target: tenantTarget(created.id),
        tenant: created.id,
        details: registered,
        personal: [adminEmail(command.adminEmail)],
      }),
      refused: () => ({ action: 'tenant.create', target: UNKNOWN_TENANT, tenant: null, details: registered }),
    });
    // A process that remembered the domain as unknown answers 503 (provisioning) from now on.
    await this.changes.announce(tenant.id);
    await this.enqueueProvisioning(tenant.id, 0);
    return tenant;
  }

  /**
   * Inserts the tenant row (`provisioning`) and its primary domain, and returns the tenant as this
   * transaction wrote it: a worker may take it further the moment it commits.
   */
  private async register(manager: EntityManager, command: ProvisionTenantCommand): Promise<TenantEntity> {
    this.refuseReserved(command.domain);
    const skeleton = hostSkeleton(command.domain);
    const taken = (await manager.query(
      `SELECT
         EXISTS (SELECT 1 FROM platform.tenants WHERE slug = $1 AND status <> 'deleted') AS slug,
         EXISTS (SELECT 1 FROM platform.tenant_domains WHERE domain = $2) AS domain,
         (SELECT domain FROM platform.tenant_domains WHERE skeleton = $3 LIMIT 1) AS "lookAlike"`,
      [command.slug, command.domain, skeleton],
    )) as [{ slug: boolean; domain: boolean; lookAlike: string | null }];
    if (taken[0].slug)
      throw new ProvisioningError('slug_taken', `The slug "${command.slug}" is already in use.`);
    if (taken[0].domain) throw domainTaken(command);
    if (taken[0].lookAlike !== null) throw domainConfusable(command, taken[0].lookAlike);
    try {
      const [{ id: newId }] = (await manager.query(`SELECT platform.next_id()::text AS id`)) as [
        { id: string },
      ];
      await manager.query(
        `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
         VALUES ($1, $2, $3, $4, 'provisioning', (SELECT id FROM platform.cells WHERE is_default), $5)`,
        [newId, command.slug, command.displayName, command.adminEmail, tenantSchemaName(newId)],
      );
      await manager.query(
        `INSERT INTO platform.tenant_domains (domain, tenant_id, is_primary, skeleton) VALUES ($1, $2, true, $3)`,
        [command.domain, newId, skeleton],
      );
      return (await this.registry.findById(newId, manager))!;
    } catch (err) {
      throw mapUniqueViolation(err, command);
    }
  }

  /**
   * The platform's own host names, and anything beneath them, are never a tenant's: a tenant there
   * would receive the operators' requests, or set cookies for their host. Nor is `localhost` outside
   * development, where it is the address operators reach the server by.
   */
  private refuseReserved(domain: string): void {
    const platformHost = this.config.platformHosts.find((host) => isSameOrBeneath(domain, host));
    // `localhost` is always a platform address (platform-site.ts); its subdomains may be tenants.
    if (platformHost !== undefined || domain === 'localhost') {
      throw new ProvisioningError(
        'domain_reserved',
        platformHost !== undefined
          ? `The domain "${domain}" is the platform's own (${platformHost}, TOWNHALL_PLATFORM_HOSTS) or lies beneath it.`
          : 'The domain "localhost" is the platform\'s own address.',
      );
    }
  }

  /**
   * The reason is kept on the tenant. Being free text it may name people, so the audit entry carries
   * only its length; the text itself goes to the encrypted side table under the acting person's subject.
   */
  async suspend(tenantId: string, reasonAsGiven?: string): Promise<TenantEntity> {
    const reason =
      reasonAsGiven === undefined ? undefined : valid(checkText(reasonAsGiven, SUSPENSION_REASON_RULE)).text;
    return this.transition(
      'tenant.suspend',
      tenantId,
      ['active'],
      async (q) => {
        await q(
          `UPDATE platform.tenants SET status = 'suspended', suspended_at = now(), suspension_reason = $2, updated_at = now() WHERE id = $1`,
          [tenantId, reason ?? null],
        );
        return { to: 'suspended', ...(reason !== undefined ? { reasonLength: reason.length } : {}) };
      },
      reason !== undefined ? { reason } : undefined,
    );
  }

  /**
   * Sets how many bytes of media the tenant may store (null: the platform's setting). Lowering it below
   * what the tenant stores removes nothing; further uploads are refused until there is room.
   */
  async setMediaQuota(tenantId: string, bytes: number | null): Promise<TenantEntity> {
    if (bytes !== null && !(Number.isSafeInteger(bytes) && bytes >= 0)) {
      throw new ProvisioningError(
        'invalid_command',
        'The media quota is a whole number of bytes, 0 or more.',
      );
    }
    return this.transition(
      'tenant.media_quota',
      tenantId,
      ['provisioning', 'active', 'suspended', 'failed', 'deleting'],
      async (q, t) => {
        await q(`UPDATE platform.tenants SET media_quota_bytes = $2, updated_at = now() WHERE id = $1`, [
          tenantId,
          bytes,
        ]);
        return { to: t.status, mediaQuotaBytes: bytes };
      },
    );
  }

  /**
   * Lifts a suspension, or cancels a deletion that is still within its grace period. A cancelled
   * deletion restores the state the tenant had before it — a suspended tenant stays suspended.
   */
  async resume(tenantId: string): Promise<TenantEntity> {
    let resumeProvisioning: number | undefined;
    const tenant = await this.transition(
      'tenant.resume',
      tenantId,
      ['suspended', 'deleting'],
      async (q, t) => {
        if (t.status === 'suspended') {
          await q(
            `UPDATE platform.tenants SET status = 'active', suspended_at = NULL, suspension_reason = NULL, updated_at = now() WHERE id = $1`,
            [tenantId],
          );
          return { to: 'active' };
        }
        const previous = t.statusBeforeDeletion ?? (t.activatedAt ? 'active' : 'provisioning');
        await q(
          `UPDATE platform.tenants SET status = $2, delete_after = NULL, status_before_deletion = NULL, updated_at = now() WHERE id = $1`,
          [tenantId, previous],
        );
        if (previous === 'provisioning') resumeProvisioning = t.provisioningAttempts;
        return { to: previous };
      },
    );
    if (resumeProvisioning !== undefined) await this.enqueueProvisioning(tenantId, resumeProvisioning);
    return tenant;
  }

  async retry(tenantId: string): Promise<TenantEntity> {
    let attempt = 0;
    const tenant = await this.transition('tenant.retry', tenantId, ['failed'], async (q, t) => {
      attempt = t.provisioningAttempts + 1;
      await q(
        `UPDATE platform.tenants SET status = 'provisioning', failure_reason = NULL, provisioning_attempts = $2, updated_at = now() WHERE id = $1`,
        [tenantId, attempt],
      );
      return { to: 'provisioning', attempt };
    });
    await this.enqueueProvisioning(tenantId, attempt);
    return tenant;
  }

  /** Marks the tenant `deleting`; the data goes once the command's grace period is over (at once for a purge). */
  async delete(
    tenantId: string,
    command: DeleteTenantCommand = new DeleteTenantCommand(),
  ): Promise<TenantEntity> {
    const { graceSeconds, purgeImmediately } = command;
    const tenant = await this.transition(
      'tenant.delete',
      tenantId,
      ['active', 'suspended', 'failed', 'provisioning'],
      async (q) => {
        await q(
          `UPDATE platform.tenants SET status = 'deleting', status_before_deletion = status,
                delete_after = now() + make_interval(secs => $2), updated_at = now() WHERE id = $1`,
          [tenantId, graceSeconds],
        );
        return { to: 'deleting', graceSeconds, ...(purgeImmediately ? { purgeImmediately } : {}) };
      },
    );
    await this.enqueueDrop(tenant);
    return tenant;
  }

  async enqueueProvisioning(tenantId: string, attempt: number): Promise<void> {
    await this.queue.add(
      ProvisionTenantJob.name,
      { tenantId },
      {
        jobId: ProvisionTenantJob.id(tenantId, attempt),
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  async enqueueDrop(tenant: Pick<TenantEntity, 'id' | 'deleteAfter'>): Promise<void> {
    const delay = Math.max(0, (tenant.deleteAfter?.getTime() ?? Date.now()) - Date.now());
    await this.queue.add(
      DropTenantSchemaJob.name,
      { tenantId: tenant.id },
      {
        jobId: DropTenantSchemaJob.id(tenant.id, tenant.deleteAfter),
        delay,
        attempts: 5,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  /**
   * Applies one transition under the tenant row's lock, if the tenant's status allows it, and records
   * it as `action` with the statuses before and after (and `text`, if any, in the side table).
   */
  private async transition(
    action: string,
    tenantId: string,
    from: TenantStatus[],
    apply: (
      q: (sql: string, params: unknown[]) => Promise<unknown>,
      tenant: TenantEntity,
    ) => Promise<TransitionDetails>,
    text?: TransitionText,
  ): Promise<TenantEntity> {
    const { tenant } = await this.audited.run({
      apply: async (manager) => {
        const locked = await this.registry.lockById(manager, tenantId);
        if (!locked) throw new ProvisioningError('tenant_not_found', `No tenant with id ${tenantId}.`);
        if (!from.includes(locked.status)) {
          throw new ProvisioningError(
            'invalid_transition',
            `The tenant is ${locked.status}; this needs it to be ${from.join(' or ')}.`,
            {
              tenantStatus: locked.status,
            },
          );
        }
        const details = await apply((sql, params) => manager.query(sql, params), locked);
        // The answer is the state this transaction wrote, read under its lock: after the commit, a
        // worker or another operator may already have moved the tenant on.
        return {
          details: { from: locked.status, ...details },
          tenant: (await this.registry.findById(tenantId, manager))!,
        };
      },
      recorded: ({ details }) => ({
        action,
        target: tenantTarget(tenantId),
        tenant: tenantId,
        details,
        ...(text ? { authored: text } : {}),
      }),
      refused: (err) =>
        isId(tenantId) && !(err instanceof ProvisioningError && err.code === 'tenant_not_found')
          ? { action, target: tenantTarget(tenantId), tenant: tenantId }
          : { action, target: isId(tenantId) ? tenantTarget(tenantId) : UNKNOWN_TENANT, tenant: null },
    });
    // Every process stops serving a suspended tenant (or starts serving a resumed one) within
    // milliseconds, not when its cached view expires.
    await this.changes.announce(tenantId);
    return tenant;
  }
}

const UNKNOWN_TENANT: AuditTarget = { type: 'tenant', id: 'unknown' };

/** The owner's e-mail address is personal data: it goes to the audit log's encrypted side table. */
function adminEmail(email: string): AuditPersonalData {
  return { identifier: `email:${email.toLowerCase()}`, data: { email } };
}

function domainTaken(command: ProvisionTenantCommand): ProvisioningError {
  return new ProvisioningError('domain_taken', `The domain "${command.domain}" is already in use.`);
}

function domainConfusable(command: ProvisionTenantCommand, lookAlike: string | null): ProvisioningError {
  return new ProvisioningError(
    'domain_confusable',
    `The domain "${command.domain}" looks like ${lookAlike ? `"${lookAlike}"` : 'a domain'}, which another tenant holds.`,
  );
}

/** A registration that lost a race to a concurrent one: the indexes decide, this names the loser's error. */
function mapUniqueViolation(err: unknown, command: ProvisionTenantCommand): unknown {
  if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') {
    const constraint = (err.driverError as { constraint?: string }).constraint ?? '';
    if (constraint.includes('slug'))
      return new ProvisioningError('slug_taken', `The slug "${command.slug}" is already in use.`);
    if (constraint === TENANT_DOMAIN_SKELETON_INDEX) return domainConfusable(command, null);
    return domainTaken(command);
  }
  return err;
}
