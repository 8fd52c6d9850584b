import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OperatorTokens } from '@townhall/auth';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { ProvisionTenantCommand, TenantLifecycle } from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';

/**
 * What makes a first start useful: on a platform with no tenant yet, a demo tenant is provisioned, and
 * on a platform with no operator (and no TOWNHALL_OPERATOR_TOKEN) a first operator token is printed once.
 */
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
    const tenant = await this.lifecycle.provision(
      new ProvisionTenantCommand({
        slug: 'demo',
        domain: this.config.demo.domain,
        displayName: 'Townhall Demo',
        adminEmail: `admin@${this.config.demo.domain}`,
      }),
    );
    for (;;) {
      const current = (await this.registry.findById(tenant.id))!;
      if (current.status === 'active' || current.status === 'failed') {
        progress(
          `Demo tenant ${current.status} after ${Date.now() - started} ms${current.failureReason ? `: ${current.failureReason}` : ''}`,
        );
        return current;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Creates the first operator when there is none and no bootstrap token is configured. */
  async firstOperatorToken(): Promise<string | null> {
    if (this.config.operatorToken !== undefined) return null;
    const [{ n }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM platform.operators`)) as [
      { n: number },
    ];
    if (n > 0) return null;
    return (await this.tokens.create('admin')).token;
  }
}
