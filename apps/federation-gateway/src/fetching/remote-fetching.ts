import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import {
  fetchActivityPubObject,
  RemoteKeys,
  RemoteObject,
  RequestSigner,
  SafeFetcher,
  signRequest,
  TOWNHALL_SOFTWARE,
} from '@townhall/activitypub';
import { CoreError, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { TenantTransactions } from '@townhall/tenancy';
import { LocalActorKeys } from '../actors/local-actor-keys';
import { LocalActorsRepository } from '../actors/local-actors.repository';

/**
 * The process's one safe fetcher, configured from TOWNHALL_INSECURE_FEDERATION and the fetch limits,
 * and the platform-wide cache of remote public keys that reads through it. Every remote fetch of the
 * gateway goes through here.
 */
@Injectable()
export class RemoteFetching implements OnApplicationShutdown {
  readonly fetcher: SafeFetcher;
  readonly keys: RemoteKeys;

  constructor(@Inject(TOWNHALL_CONFIG) config: TownhallConfig) {
    this.fetcher = new SafeFetcher({
      insecure: config.federation.insecure,
      timeoutMs: config.federation.fetchTimeoutMs,
      maxBytes: config.federation.fetchMaxBytes,
      maxRedirects: config.federation.fetchMaxRedirects,
      userAgent: `Townhall/${TOWNHALL_SOFTWARE.version} (+${TOWNHALL_SOFTWARE.homepage})`,
    });
    this.keys = new RemoteKeys({ fetcher: this.fetcher });
  }

  onApplicationShutdown(): void {
    this.fetcher.close();
  }
}

/**
 * Signs the current tenant's fetches as its instance actor (`{origin}/actor`), so that servers in
 * authorized-fetch mode answer, and so that a server that blocks one tenant blocks only that tenant:
 * there is no platform-wide actor.
 */
@Injectable()
export class InstanceActorSigner {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly actors: LocalActorsRepository,
    private readonly keys: LocalActorKeys,
    private readonly fetching: RemoteFetching,
  ) {}

  /** A signer for the current tenant's instance actor. */
  async forCurrentTenant(): Promise<RequestSigner> {
    const actor = await this.transactions.run((m) => this.actors.instanceActor(m));
    if (!actor) throw new CoreError('unavailable', 'This instance has no actor to sign with.');
    const key = await this.keys.signingKey(actor.id);
    if (!key) throw new CoreError('unavailable', 'This instance’s actor has no key.');
    return ({ method, url, headers }) => signRequest({ method, url: url.href, headers }, key);
  }

  /** Fetches an ActivityPub object, signed as the current tenant's instance actor. */
  async fetchObject(url: string): Promise<RemoteObject> {
    return fetchActivityPubObject(this.fetching.fetcher, url, { sign: await this.forCurrentTenant() });
  }
}
