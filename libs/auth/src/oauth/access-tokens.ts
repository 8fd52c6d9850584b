import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { PlatformEvents, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
import { findTokenGrant, type TokenGrant } from './oauth-records';

/** The channel on which processes hear that tokens stopped being valid (`tenantId:tokenHash` or `tenantId:*`). */
export const TOKEN_REVOCATIONS_CHANNEL = 'tokens:revoked';

/** How long a process may answer from what it looked up about a token, if an announcement was lost. */
const TOKEN_CACHE_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Bearer token → what it grants, for the current tenant, without a database round trip per request.
 * Like the tenant directory: remembered per process for at most a minute, forgotten at once when any
 * process announces a revocation (a token revoked, a user disabled, an account suspended), and not
 * remembered at all while this process is not subscribed to the announcements.
 */
@Injectable()
export class AccessTokens {
  private readonly logger = new Logger(AccessTokens.name);
  private readonly entries = new Map<string, { grant: TokenGrant | null; at: number }>();
  private generation = 0;
  private listening: Promise<void> | undefined;

  constructor(
    private readonly transactions: TenantTransactions,
    private readonly events: PlatformEvents,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** What `token` grants on the current tenant, or null when it is not one of its tokens. */
  async resolve(token: string): Promise<TokenGrant | null> {
    this.listening ??= this.events
      .listen(
        TOKEN_REVOCATIONS_CHANNEL,
        (message) => this.forget(message),
        () => this.forgetAll(),
      )
      .catch((err: unknown) =>
        this.logger.warn({ err }, 'Token revocations are not heard; no token is cached'),
      );
    await this.listening;
    const tenant = TenantContext.current();
    const key = `${tenant.id}:${tokenKey(token)}`;
    const cached = this.events.subscribed && this.config.tenantHttp.tenantCacheMs > 0;
    const hit = this.entries.get(key);
    if (cached && hit && Date.now() - hit.at < TOKEN_CACHE_MS) return hit.grant;
    const generation = this.generation;
    const grant = await this.transactions.run((m) => findTokenGrant(m, token));
    if (cached && generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { grant, at: Date.now() });
    }
    return grant;
  }

  /** Tells every process that a token of the current tenant (its SHA-256) is no longer valid. */
  async announceRevoked(tokenHash: Buffer): Promise<void> {
    await this.announce(`${TenantContext.current().id}:${tokenHash.toString('hex')}`);
  }

  /** Tells every process that any token of the current tenant may have changed (a user disabled, …). */
  async announceAllChanged(): Promise<void> {
    await this.announce(`${TenantContext.current().id}:*`);
  }

  private async announce(message: string): Promise<void> {
    this.forget(message);
    try {
      await this.events.announce(TOKEN_REVOCATIONS_CHANNEL, message);
    } catch (err) {
      this.logger.warn(
        { err },
        'Could not announce a token revocation; other processes see it within a minute',
      );
    }
  }

  private forget(message: string): void {
    this.generation++;
    if (message.endsWith(':*')) {
      const prefix = message.slice(0, -1);
      for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
    } else {
      this.entries.delete(message);
    }
  }

  private forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }
}

function tokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
