import { Inject, Injectable } from '@nestjs/common';
import {
  actorEndpoints,
  LocalActor,
  LocalNote,
  parseWebfingerResource,
  renderActor,
  renderCreate,
  renderNote,
  renderOrderedCollection,
  renderOrderedCollectionPage,
  Visibility,
  webfingerJrd,
} from '@townhall/activitypub';
import { CoreError, publicUrl, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
import { LocalActorKeys } from './local-actor-keys';
import { LocalAccountRow, LocalActorsRepository, StatusRow } from './local-actors.repository';

const VISIBILITIES: Visibility[] = ['public', 'unlisted', 'private', 'direct'];
const OUTBOX_PAGE = 20;
const RELATIONS_PAGE = 40;
/** Mastodon's usernames: letters, digits, underscores. Anything else is not an account here. */
const USERNAME = /^[A-Za-z0-9_]{1,30}$/;

/**
 * The tenant's local actors as other servers see them: actor documents, WebFinger, the outbox,
 * followers, following and featured collections, and public statuses as Notes. Only what Mastodon shows
 * a reader who is not signed in: public and unlisted statuses; collections of an account that hides
 * them show their size only.
 */
@Injectable()
export class LocalActorsService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly actors: LocalActorsRepository,
    private readonly keys: LocalActorKeys,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async actor(username: string): Promise<Record<string, unknown>> {
    const account = await this.account(username);
    return this.renderAccount(account, false);
  }

  async instanceActor(): Promise<Record<string, unknown>> {
    const account = await this.transactions.run((m) => this.actors.instanceActor(m));
    if (!account) throw new CoreError('not_found', 'This instance has no actor.');
    return this.renderAccount(account, true);
  }

  /** The JRD for `acct:` of this tenant's domains or an actor's URLs; null when it names nobody here. */
  async webfinger(resource: string | undefined): Promise<Record<string, unknown>> {
    const query = parseWebfingerResource(resource);
    if (!query) throw new CoreError('bad_request', 'resource must be acct:user@domain or an account URL.');
    const domain = TenantContext.current().domain;
    let username: string | undefined;
    if (query.kind === 'acct') {
      if (query.domain !== domain) throw new CoreError('not_found', 'No such account here.');
      username = query.username;
    } else {
      if (query.url.hostname !== domain) throw new CoreError('not_found', 'No such account here.');
      const path = query.url.pathname;
      username =
        /^\/users\/([^/]+)$/.exec(path)?.[1] ??
        /^\/@([^/]+)$/.exec(path)?.[1] ??
        (path === '/actor' ? domain : undefined);
    }
    if (!username) throw new CoreError('not_found', 'No such account here.');
    const instance = username.toLowerCase() === domain;
    const account = instance
      ? await this.transactions.run((m) => this.actors.instanceActor(m))
      : USERNAME.test(username)
        ? await this.transactions.run((m) => this.actors.byUsername(m, username))
        : null;
    if (!account || account.suspended) throw new CoreError('not_found', 'No such account here.');
    return webfingerJrd({
      username: account.username,
      domain,
      actorUri: account.uri,
      profileUrl: instance ? null : account.url,
      origin: publicUrl(this.config, domain, '/').replace(/\/$/, ''),
    });
  }

  /**
   * The outbox: its size, and pages of Create activities newest first — `max_id` pages back in time,
   * `min_id` forward (`min_id=0` is the oldest page, the collection's `last`).
   */
  async outbox(
    username: string,
    page: boolean,
    cursor: { maxId?: string; minId?: string },
  ): Promise<Record<string, unknown>> {
    const account = await this.account(username);
    const id = actorEndpoints(account.uri).outbox;
    return this.transactions.run(async (m) => {
      const total = await this.actors.publicStatusCount(m, account.id);
      if (!page) {
        return renderOrderedCollection({
          id,
          totalItems: total,
          first: `${id}?page=true`,
          last: `${id}?min_id=0&page=true`,
        });
      }
      const idParam = (v: string | undefined) => (v !== undefined && /^\d{1,19}$/.test(v) ? v : null);
      const maxId = idParam(cursor.maxId);
      const minId = maxId === null ? idParam(cursor.minId) : null;
      const rows = await this.actors.publicStatuses(m, account.id, { maxId, minId }, OUTBOX_PAGE);
      const pageId = maxId
        ? `${id}?max_id=${maxId}&page=true`
        : minId
          ? `${id}?min_id=${minId}&page=true`
          : `${id}?page=true`;
      const oldest = rows[rows.length - 1]?.id;
      const newest = rows[0]?.id;
      // An older page exists when this one is full, or when it was reached from the oldest end.
      const hasOlder = rows.length === OUTBOX_PAGE || (minId !== null && minId !== '0' && rows.length > 0);
      return renderOrderedCollectionPage({
        id: pageId,
        partOf: id,
        totalItems: total,
        orderedItems: rows.map((r) => renderCreate(this.note(account, r), { context: false })),
        ...(hasOlder && oldest ? { next: `${id}?max_id=${oldest}&page=true` } : {}),
        ...(newest && (maxId !== null || minId !== null) ? { prev: `${id}?min_id=${newest}&page=true` } : {}),
      });
    });
  }

  /** Followers or following: the size, and pages of actor ids unless the account hides them. */
  async relations(
    username: string,
    direction: 'followers' | 'following',
    page: string | undefined,
  ): Promise<Record<string, unknown>> {
    const account = await this.account(username);
    const id = actorEndpoints(account.uri)[direction];
    return this.transactions.run(async (m) => {
      const total = await this.actors.relationCount(m, account.id, direction);
      const pageNumber = page !== undefined && /^[1-9]\d{0,5}$/.test(page) ? Number(page) : undefined;
      if (pageNumber === undefined || account.hide_collections) {
        return renderOrderedCollection({
          id,
          totalItems: total,
          ...(account.hide_collections ? {} : { first: `${id}?page=1` }),
        });
      }
      // Numbered pages, as Mastodon's; each page reads from the start of the relation ids it needs.
      const rows = await this.pageOfRelations(m, account.id, direction, pageNumber);
      return renderOrderedCollectionPage({
        id: `${id}?page=${pageNumber}`,
        partOf: id,
        totalItems: total,
        orderedItems: rows.map((r) => r.uri),
        ...(pageNumber * RELATIONS_PAGE < total ? { next: `${id}?page=${pageNumber + 1}` } : {}),
        ...(pageNumber > 1 ? { prev: `${id}?page=${pageNumber - 1}` } : {}),
      });
    });
  }

  async featured(username: string): Promise<Record<string, unknown>> {
    const account = await this.account(username);
    const rows = await this.transactions.run((m) => this.actors.pinnedStatuses(m, account.id));
    return {
      ...renderOrderedCollection({ id: actorEndpoints(account.uri).featured, totalItems: rows.length }),
      orderedItems: rows.map((r) => renderNote(this.note(account, r), { context: false })),
    };
  }

  async status(username: string, statusId: string, activity: boolean): Promise<Record<string, unknown>> {
    if (!/^\d{1,19}$/.test(statusId)) throw new CoreError('not_found', 'No such status.');
    const account = await this.account(username);
    const row = await this.transactions.run((m) => this.actors.publicStatus(m, account.id, statusId));
    if (!row) throw new CoreError('not_found', 'No such status.');
    const note = this.note(account, row);
    return activity ? renderCreate(note) : renderNote(note);
  }

  private async account(username: string): Promise<LocalAccountRow> {
    const account = USERNAME.test(username)
      ? await this.transactions.run((m) => this.actors.byUsername(m, username))
      : null;
    if (!account) throw new CoreError('not_found', 'No such account.');
    if (account.suspended) throw new CoreError('not_found', 'This account is suspended.');
    return account;
  }

  private async pageOfRelations(
    m: import('typeorm').EntityManager,
    accountId: string,
    direction: 'followers' | 'following',
    pageNumber: number,
  ) {
    let after: string | null = null;
    let rows: Array<{ id: string; uri: string }> = [];
    for (let p = 1; p <= pageNumber; p++) {
      rows = await this.actors.relations(m, accountId, direction, after, RELATIONS_PAGE);
      if (rows.length === 0) return [];
      after = rows[rows.length - 1].id;
    }
    return rows;
  }

  private async renderAccount(
    account: LocalAccountRow,
    instanceActor: boolean,
  ): Promise<Record<string, unknown>> {
    const keyId = actorEndpoints(account.uri).keyId;
    const publicKeyPem = await this.keys.publicKey(account.id, keyId);
    const domain = TenantContext.current().domain;
    const media = (m: { key: string } | null) =>
      m ? { url: publicUrl(this.config, domain, `/system/${m.key}`), mediaType: mediaTypeOf(m.key) } : null;
    const actor: LocalActor = {
      uri: account.uri,
      url: account.url,
      username: account.username,
      displayName: account.display_name,
      note: account.note,
      actorType: account.actor_type,
      locked: account.locked || instanceActor,
      discoverable: account.discoverable && !instanceActor,
      indexable: account.indexable && !instanceActor,
      memorial: account.memorial,
      createdAt: new Date(account.created_at),
      publicKeyPem,
      fields: Array.isArray(account.fields) ? account.fields : [],
      avatar: media(account.avatar),
      header: media(account.header),
      instanceActor,
    };
    return renderActor(actor);
  }

  private note(account: LocalAccountRow, row: StatusRow): LocalNote {
    const domain = TenantContext.current().domain;
    return {
      uri: row.uri,
      url: row.url ?? row.uri,
      actorUri: account.uri,
      content: row.content,
      spoilerText: row.spoiler_text,
      sensitive: row.sensitive,
      language: row.language,
      visibility: VISIBILITIES[row.visibility],
      published: new Date(row.created_at),
      updated: row.edited_at ? new Date(row.edited_at) : null,
      inReplyTo: row.in_reply_to_uri,
      mentions: (row.mentions ?? []).map((m) => ({
        uri: m.uri,
        acct: `@${m.username}@${m.domain ?? domain}`,
      })),
      tags: (row.tags ?? []).map((name) => ({
        name,
        url: publicUrl(this.config, domain, `/tags/${encodeURIComponent(name.toLowerCase())}`),
      })),
    };
  }
}

function mediaTypeOf(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return (
    { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }[ext] ??
    'image/jpeg'
  );
}
