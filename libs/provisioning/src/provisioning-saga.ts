import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ActorKeyPair, generateActorKeyPair } from '@townhall/activitypub';
import { AuditRecorder } from '@townhall/compliance';
import { publicUrl, SecretBox, SecretKeyring, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { actorKeyAad, quoteIdent } from '@townhall/persistence';
import { findLocalAccountId, insertLocalAccount, insertUser, usernameFromEmail } from '@townhall/social';
import { migrateTenantSchema, TenantChanges, TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { ActorKeyPool } from './actor-key-pool';
import { asProvisioningWorker, recordWorkerTransition } from './provisioning-audit';

/** The saga's steps, in order. The name of the last completed step is stored on the tenant row. */
export const PROVISIONING_STEPS = ['schema', 'migrations', 'instance_actor', 'owner', 'active'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];

export type SagaOutcome = 'activated' | 'already_done' | 'not_provisioning' | 'gone';

/** A saga run that finds the tenant part-way along continues one step per transaction. */
type OneTransactionOutcome = SagaOutcome | 'resume_step_by_step';

/**
 * Provisions a tenant through its steps, each recorded on the tenant row (`provisioning_step`) in the
 * transaction that does its work, under the tenant row's lock. A crash at any point leaves every step
 * either done and recorded or neither; running the saga again resumes after the last recorded step. Two
 * runners on one tenant serialise on the row lock and the second finds nothing left to do.
 *
 * A fresh tenant goes through all steps in one transaction: what activation costs is then the DDL
 * itself, not five commits and five cold catalog caches. If that transaction fails, the saga goes on
 * one step per transaction, so the failure is pinned to its step, the steps before it stay committed,
 * and a retry resumes there.
 *
 * Activation is recorded in the audit log (`tenant.activate`, by the provisioning worker) in the
 * transaction that records step `active`: one INSERT, and exactly one entry however often the saga
 * crashed or raced on the way.
 */
@Injectable()
export class ProvisioningSaga {
  private readonly logger = new Logger(ProvisioningSaga.name);
  private readonly secrets: SecretBox;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    keyring: SecretKeyring,
    private readonly keyPool: ActorKeyPool,
    private readonly recorder: AuditRecorder,
    private readonly changes: TenantChanges,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    this.secrets = keyring.box('actor-keys');
  }

  async run(tenantId: string): Promise<SagaOutcome> {
    const outcome = await asProvisioningWorker(() => this.provision(tenantId));
    // Processes that answered 503 for the domain while it was provisioning serve it from now on.
    if (outcome === 'activated') await this.changes.announce(tenantId);
    return outcome;
  }

  private async provision(tenantId: string): Promise<SagaOutcome> {
    const tenant = await this.registry.findById(tenantId);
    if (!tenant) return 'gone';
    if (tenant.status !== 'provisioning')
      return tenant.status === 'active' ? 'already_done' : 'not_provisioning';
    // Key generation is slow CPU work: when the pool has no key for us, generate one before taking the
    // row lock.
    const prepared = await this.prepareInstanceActor(tenant);
    if (tenant.provisioningStep === null) {
      try {
        const outcome = await this.runInOneTransaction(tenantId, prepared);
        if (outcome !== 'resume_step_by_step') return outcome;
      } catch (err) {
        this.logger.warn(
          { tenantId, err: (err as Error).message },
          'Provisioning in one transaction failed; going on one step at a time',
        );
      }
    }
    return this.runStepByStep(tenantId, prepared);
  }

  private async runInOneTransaction(
    tenantId: string,
    prepared: ActorKeyPair | undefined,
  ): Promise<OneTransactionOutcome> {
    const outcome = await this.dataSource.transaction(async (manager): Promise<OneTransactionOutcome> => {
      const tenant = await this.registry.lockById(manager, tenantId);
      if (!tenant) return 'gone';
      if (tenant.status !== 'provisioning')
        return tenant.status === 'active' ? 'already_done' : 'not_provisioning';
      if (tenant.provisioningStep !== null) return 'resume_step_by_step';
      for (const step of PROVISIONING_STEPS) {
        await this.perform(manager, tenant, step, prepared);
        this.crashIfAskedTo(`during:${step}`);
      }
      if (this.faultPoint()?.startsWith('stepwise:'))
        throw new Error('Injected fault: one transaction refused');
      await this.recordStep(manager, tenantId, 'active');
      await this.recordActivation(manager, tenantId);
      return 'activated';
    });
    if (outcome === 'activated') this.crashIfAskedTo('active');
    return outcome;
  }

  private async runStepByStep(tenantId: string, prepared: ActorKeyPair | undefined): Promise<SagaOutcome> {
    let outcome: SagaOutcome = 'already_done';
    for (const step of PROVISIONING_STEPS) {
      const result = await this.dataSource.transaction(async (manager) => {
        const tenant = await this.registry.lockById(manager, tenantId);
        if (!tenant) return 'gone' as const;
        if (tenant.status !== 'provisioning')
          return tenant.status === 'active' ? ('already_done' as const) : ('not_provisioning' as const);
        if (isDone(tenant, step)) return 'skipped' as const;
        if (step !== 'active') {
          // An intermediate step need not wait for its WAL flush: if the server lost it in a crash, it
          // lost the step's work with it (one transaction), and the saga simply does that step again.
          // Only activation — what callers observe — is committed durably.
          await manager.query(`SET LOCAL synchronous_commit = off`);
        }
        await this.perform(manager, tenant, step, prepared);
        this.crashIfAskedTo(`stepwise:during:${step}`);
        await this.recordStep(manager, tenantId, step);
        if (step === 'active') await this.recordActivation(manager, tenantId);
        return 'done' as const;
      });
      if (result === 'gone' || result === 'not_provisioning') return result;
      if (result === 'already_done') return outcome;
      if (result === 'done') {
        this.logger.debug({ tenantId, step }, 'Provisioning step done');
        if (step === 'active') outcome = 'activated';
        this.crashIfAskedTo(`stepwise:${step}`);
      }
    }
    return outcome;
  }

  private async recordStep(manager: EntityManager, tenantId: string, step: ProvisioningStep): Promise<void> {
    await manager.query(
      `UPDATE platform.tenants SET provisioning_step = $2, updated_at = now() WHERE id = $1`,
      [tenantId, step],
    );
  }

  private recordActivation(manager: EntityManager, tenantId: string): Promise<void> {
    return recordWorkerTransition(this.recorder, manager, 'tenant.activate', tenantId, {
      from: 'provisioning',
      to: 'active',
    });
  }

  private async perform(
    manager: EntityManager,
    tenant: TenantEntity,
    step: ProvisioningStep,
    prepared?: ActorKeyPair,
  ): Promise<void> {
    const schema = tenant.schemaName;
    switch (step) {
      case 'schema':
        await manager.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        return;
      case 'migrations':
        await migrateTenantSchema(manager, { id: tenant.id, schema });
        return;
      case 'instance_actor': {
        const domain = await this.domainOf(manager, tenant);
        await manager.query(`SET LOCAL search_path TO ${schema}`);
        const keys = prepared ?? (await this.keyPool.take(manager)) ?? (await generateActorKeyPair());
        const uri = publicUrl(this.config, domain, '/actor');
        const accountId = await insertLocalAccount(manager, {
          username: domain,
          displayName: tenant.displayName,
          actorType: 'Application',
          uri,
          url: publicUrl(this.config, domain, '/about'),
        });
        const keyId = `${uri}#main-key`;
        await manager.query(
          `INSERT INTO actor_keys (account_id, key_id, public_key_pem, private_key_sealed) VALUES ($1, $2, $3, $4)`,
          [
            accountId,
            keyId,
            keys.publicKeyPem,
            this.secrets.seal(keys.privateKeyPem, actorKeyAad(schema, keyId)),
          ],
        );
        return;
      }
      case 'owner': {
        const domain = await this.domainOf(manager, tenant);
        await manager.query(`SET LOCAL search_path TO ${schema}`);
        let username = usernameFromEmail(tenant.adminEmail);
        if ((await findLocalAccountId(manager, username)) !== null) username = 'admin';
        const accountId = await insertLocalAccount(manager, {
          username,
          displayName: tenant.displayName,
          actorType: 'Person',
          uri: publicUrl(this.config, domain, `/users/${username}`),
          url: publicUrl(this.config, domain, `/@${username}`),
        });
        await insertUser(manager, { accountId, email: tenant.adminEmail, role: 'owner', confirmed: true });
        return;
      }
      case 'active':
        await manager.query(
          `UPDATE platform.tenants SET status = 'active', failure_reason = NULL, activated_at = coalesce(activated_at, now()) WHERE id = $1`,
          [tenant.id],
        );
        return;
    }
  }

  /** A key generated now when the instance actor is still to make and the pool has none to give. */
  private async prepareInstanceActor(tenant: TenantEntity): Promise<ActorKeyPair | undefined> {
    if (isDone(tenant, 'instance_actor')) return undefined;
    if (await this.keyPool.hasKeys()) return undefined; // taken from the pool inside the step
    return generateActorKeyPair();
  }

  private async domainOf(manager: EntityManager, tenant: TenantEntity): Promise<string> {
    const domain = await this.registry.primaryDomain(tenant.id, manager);
    if (!domain) throw new Error(`Tenant ${tenant.id} has no primary domain`);
    return domain;
  }

  /**
   * Test-only fault injection (refused by config validation in production). In the one transaction,
   * `during:STEP` dies after that step's work, before the commit, and `active` right after the commit.
   * `stepwise:…` makes the one transaction fail instead, then dies step by step: `stepwise:STEP` right
   * after that step's commit, `stepwise:during:STEP` after its work but before its commit.
   */
  private crashIfAskedTo(point: string): void {
    if (this.faultPoint() === point) process.kill(process.pid, 'SIGKILL');
  }

  private faultPoint(): string | undefined {
    return this.config.faults.crashAfterProvisioningStep;
  }
}

function isDone(tenant: TenantEntity, step: ProvisioningStep): boolean {
  if (tenant.provisioningStep === null) return false;
  return (
    PROVISIONING_STEPS.indexOf(tenant.provisioningStep as ProvisioningStep) >=
    PROVISIONING_STEPS.indexOf(step)
  );
}
