import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OperatorTokens } from '@townhall/auth';
import { AuditContext, systemAuditContext } from '@townhall/compliance';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { ProvisionTenantCommand, TenantLifecycle } from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';

/**
 * What makes a first start useful: on a platform with no tenant yet, a demo tenant is provisioned, and
 * on a platform with no operator (and no TOWNHALL_OPERATOR_TOKEN) a first operator token is printed once.
 */
const DEMO_WAIT_MS = 120_000;

@Injectable()
export class DemoTenant {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lifecycle: TenantLifecycle,
    private readonly registry: TenantRegistry,
    private readonly tokens: OperatorTokens,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /**
   * Provisions the demo tenant if the platform has none and resolves once it is active (or failed); on
   * later starts returns the tenant at the demo domain, if there still is one.
   */
  async ensure(progress: (line: string) => void): Promise<TenantEntity | null> {
    if (!this.config.demo.enabled) return null;
    const [{ n }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM platform.tenants`)) as [
      { n: number },
    ];
    if (n > 0) return (await this.registry.findByHost(this.config.demo.domain))?.tenant ?? null;
    const started = Date.now();
    progress(`Provisioning the demo tenant at ${this.config.demo.domain} …`);
    const command = new ProvisionTenantCommand({
      slug: 'demo',
      domain: this.config.demo.domain,
      displayName: 'Townhall Demo',
      adminEmail: `admin@${this.config.demo.domain}`,
    });
    const tenant = await AuditContext.run(systemAuditContext('demo'), () =>
      this.lifecycle.provision(command),
    );
    if (!this.config.provisioning.workers) {
      progress(
        'Workers are off in this process (TOWNHALL_WORKERS=false): a worker process will provision it.',
      );
      return null;
    }
    // Bounded: a start must not hang on a demo that cannot finish (it keeps provisioning in the background).
    const deadline = started + DEMO_WAIT_MS;
    for (;;) {
      const current = (await this.registry.findById(tenant.id))!;
      if (current.status === 'active' || current.status === 'failed') {
        progress(
          `Demo tenant ${current.status} after ${Date.now() - started} ms${current.failureReason ? `: ${current.failureReason}` : ''}`,
        );
        return current;
      }
      if (Date.now() > deadline) {
        progress(
          `Demo tenant still ${current.status} after ${DEMO_WAIT_MS / 1000} s; see \`townhall tenants show demo\`.`,
        );
        return null;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Creates the first operator when there is none and no bootstrap token is configured — outside
   * production only, where printing a token to the console is acceptable.
   */
  async firstOperatorToken(): Promise<string | null> {
    if (this.config.operatorToken !== undefined || this.config.env === 'production') return null;
    const [{ n }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM platform.operators`)) as [
      { n: number },
    ];
    if (n > 0) return null;
    return (await AuditContext.run(systemAuditContext('demo'), () => this.tokens.create('admin'))).token;
  }
}
