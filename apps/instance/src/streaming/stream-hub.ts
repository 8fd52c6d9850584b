import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { AccessTokens, TOKEN_REVOCATIONS_CHANNEL } from '@townhall/auth';
import { PlatformEvents, RedisConnection, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { filteredOut, streamChannel, type StreamMessage } from '@townhall/social';
import { TENANT_CHANGES_CHANNEL, type TenantAtHost, TenantContext } from '@townhall/tenancy';
import { StatusPresenter } from '../presenters/status.presenter';
import { StreamRenderer } from './stream-renderer';
import {
  resolveStream,
  StreamError,
  type StreamOutput,
  type StreamParams,
  StreamSession,
  type StreamTarget,
  type StreamViewer,
  tokenKeyOf,
} from './stream-session';

/** Subscriptions one connection may hold at once (Mastodon sets none; a client needs a handful). */
export const MAX_SUBSCRIPTIONS = 100;

interface Listener {
  session: StreamSession;
  target: StreamTarget;
}

/**
 * Every streaming connection of this process and the Redis channels they need. A channel is
 * subscribed while at least one connection listens to it (as Mastodon's streaming server does), so any
 * instance process can serve any stream of any tenant. Status events that reach many connections at
 * once are rendered once per event for all of them (`StreamRenderer.status`): the messages of one
 * status to a thousand home streams arrive together and are answered by one batch.
 *
 * It also ends connections that lost their right to exist: a revoked token (the token guard's
 * announcements, `tokens:revoked`) and a tenant that is no longer active (`tenants:changed`), both
 * heard on Redis from whichever process made the change.
 */
@Injectable()
export class StreamHub implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(StreamHub.name);
  private readonly sessions = new Set<StreamSession>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly pendingStatus = new Map<string, { message: StreamMessage; listeners: Listener[] }>();
  private flushScheduled = false;
  private steps: (() => Promise<void>)[] = [];
  private delivering: Promise<void> = Promise.resolve();
  private subscriber: Redis | undefined;
  private subscriberReady: Promise<Redis> | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly events: PlatformEvents,
    private readonly tokens: AccessTokens,
    private readonly renderer: StreamRenderer,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events
      .listen(
        TOKEN_REVOCATIONS_CHANNEL,
        (message) => this.onRevocation(message),
        () => this.recheckAll(),
      )
      .catch((err: unknown) => this.logger.warn({ err }, 'Token revocations are not heard'));
    await this.events
      .listen(
        TENANT_CHANGES_CHANNEL,
        (tenantId) => void this.recheckTenant(tenantId),
        () => undefined,
      )
      .catch((err: unknown) => this.logger.warn({ err }, 'Tenant changes are not heard'));
  }

  /**
   * The viewer a token names on a tenant, as Mastodon's streaming server accepts it: a user's token
   * that is neither revoked nor expired (an application's own token streams nothing).
   */
  async viewer(tenant: TenantAtHost, token: string | undefined): Promise<StreamViewer> {
    if (tenant.ref.status === 'suspended')
      throw new StreamError(503, 'This instance has been suspended by the platform operator.');
    if (tenant.ref.status !== 'active') throw new StreamError(503, `This instance is ${tenant.ref.status}.`);
    if (!token) throw new StreamError(401, 'Missing access token');
    const grant = await TenantContext.run(tenant.ref, () => this.tokens.resolve(token));
    if (!grant || !grant.usable || grant.accountId === null)
      throw new StreamError(401, 'Invalid access token');
    return {
      tenant,
      accountId: grant.accountId,
      scopes: grant.scopes,
      token,
      tokenKey: tokenKeyOf(tenant.ref.id, token),
    };
  }

  get connections(): number {
    return this.sessions.size;
  }

  async open(viewer: StreamViewer, output: StreamOutput): Promise<StreamSession> {
    const session = new StreamSession(viewer, output);
    session.filters = await this.renderer.filters(viewer.tenant, viewer.accountId);
    this.sessions.add(session);
    this.attach(session, {
      key: `system:${viewer.accountId}`,
      channels: [streamChannel(viewer.tenant.ref.id, `system:${viewer.accountId}`)],
      stream: [],
      filtering: false,
      context: 'home',
    });
    return session;
  }

  close(session: StreamSession): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session);
    for (const target of session.subscriptions.values()) this.detach(session, target);
    session.subscriptions.clear();
  }

  /** Mastodon's `subscribe`: resolves the stream, then listens; a stream already held is not doubled. */
  async subscribe(session: StreamSession, name: unknown, params: StreamParams): Promise<StreamTarget> {
    const target = await resolveStream(session.viewer, name, params, (list) =>
      this.renderer.ownsList(session.viewer.tenant, session.viewer.accountId, list),
    );
    if (session.closed || session.subscriptions.has(target.key)) return target;
    if (session.subscriptions.size > MAX_SUBSCRIPTIONS)
      throw new StreamError(400, `No more than ${MAX_SUBSCRIPTIONS} subscriptions on one connection`);
    this.attach(session, target);
    return target;
  }

  async unsubscribe(session: StreamSession, name: unknown, params: StreamParams): Promise<void> {
    const target = await resolveStream(session.viewer, name, params, async () => true);
    const held = session.subscriptions.get(target.key);
    if (held) this.detach(session, held);
    session.subscriptions.delete(target.key);
  }

  private attach(session: StreamSession, target: StreamTarget): void {
    session.subscriptions.set(target.key, target);
    for (const channel of target.channels) {
      const name = this.redis.key(channel);
      let set = this.listeners.get(name);
      if (!set) {
        set = new Set();
        this.listeners.set(name, set);
        this.redisSubscriber()
          .then((subscriber) => subscriber.subscribe(name))
          .catch((err: unknown) => this.logger.warn({ err, channel }, 'Could not subscribe to a stream'));
      }
      set.add({ session, target });
    }
  }

  private detach(session: StreamSession, target: StreamTarget): void {
    for (const channel of target.channels) {
      const name = this.redis.key(channel);
      const set = this.listeners.get(name);
      if (!set) continue;
      for (const l of set) if (l.session === session && l.target.key === target.key) set.delete(l);
      if (set.size === 0) {
        this.listeners.delete(name);
        void this.subscriberReady
          ?.then((subscriber) => {
            // Unless a connection asked for it again meanwhile.
            if (!this.listeners.has(name)) return subscriber.unsubscribe(name);
          })
          .catch(() => undefined);
      }
    }
  }

  /**
   * The process's subscriber connection for streams, connected before the first SUBSCRIBE is sent
   * and without auto-pipelining (commands sent to a subscriber while it connects were seen to be
   * lost under load). After a reconnection ioredis subscribes again to what it was subscribed to.
   */
  private redisSubscriber(): Promise<Redis> {
    this.subscriberReady ??= (async () => {
      const subscriber = this.redis.redis.duplicate({ lazyConnect: true, enableAutoPipelining: false });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string, text: string) => this.onMessage(channel, text));
      this.subscriber = subscriber;
      await subscriber.connect();
      return subscriber;
    })();
    return this.subscriberReady;
  }

  private onMessage(channel: string, text: string): void {
    const listeners = this.listeners.get(channel);
    if (!listeners || listeners.size === 0) return;
    let message: StreamMessage;
    try {
      message = JSON.parse(text) as StreamMessage;
    } catch {
      return;
    }
    for (const l of listeners) {
      if (l.session.closed) continue;
      switch (message.event) {
        case 'update':
        case 'status.update':
          this.queueStatus(message, l);
          break;
        case 'delete':
          if (message.id)
            this.queue(async () => l.session.output.send(l.target.stream, 'delete', message.id!));
          break;
        case 'filters_changed':
          this.reloadFilters(l.session);
          break;
        case 'notification':
          this.queue(() =>
            this.sendRendered(l, 'notification', (s) =>
              this.renderer.notification(s.viewer.tenant, s.viewer.accountId, message.id!),
            ),
          );
          break;
        case 'conversation':
          this.queue(() =>
            this.sendRendered(l, 'conversation', (s) =>
              this.renderer.conversation(s.viewer.tenant, s.viewer.accountId, message.id!),
            ),
          );
          break;
      }
    }
  }

  private async sendRendered(
    l: Listener,
    event: string,
    render: (session: StreamSession) => Promise<object | null>,
  ): Promise<void> {
    try {
      const entity = await render(l.session);
      if (entity && !l.session.closed) l.session.output.send(l.target.stream, event, JSON.stringify(entity));
    } catch (err) {
      this.logger.warn({ err, event }, 'Could not render a stream event');
    }
  }

  /**
   * Events are delivered in the order Redis brought them (an update before the deletion that follows
   * it), one step after the other. A status's events arriving in one turn of the event loop — the same
   * status to many home streams — are one step, rendered together.
   */
  private queueStatus(message: StreamMessage, l: Listener): void {
    const key = `${l.session.viewer.tenant.ref.id}:${message.event}:${message.id}`;
    let batch = this.pendingStatus.get(key);
    if (!batch) {
      const created = { message, listeners: [] as Listener[] };
      batch = created;
      this.pendingStatus.set(key, created);
      this.queue(() => this.renderStatus(created.message, created.listeners));
    }
    batch.listeners.push(l);
  }

  private queue(step: () => Promise<void>): void {
    this.steps.push(step);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const steps = this.steps;
      this.steps = [];
      // Batches are complete once this turn is over: later messages start new ones.
      this.pendingStatus.clear();
      this.delivering = this.delivering.then(async () => {
        for (const next of steps)
          await next().catch((err: unknown) => this.logger.warn({ err }, 'Could not deliver a stream event'));
      });
    });
  }

  private async renderStatus(message: StreamMessage, listeners: Listener[]): Promise<void> {
    await Promise.all(listeners.map((l) => l.session.filtersLoading));
    const tenant = listeners[0].session.viewer.tenant;
    const filtersBy = new Map(listeners.map((l) => [l.session.viewer.accountId, l.session.filters]));
    const found = await this.renderer.status(
      tenant,
      message.id!,
      [...filtersBy.keys()],
      (v) => filtersBy.get(v) ?? [],
      listeners.filter((l) => l.target.filtering).map((l) => l.session.viewer.accountId),
    );
    if (!found) return;
    const presenter = new StatusPresenter(this.config, tenant.primaryDomain);
    // Viewers whose flags and filter results are the same get the same entity: rendered once.
    const rendered = new Map<string, string | null>();
    const byViewer = new Map<string, string | null>();
    for (const l of listeners) {
      if (l.session.closed) continue;
      const viewer = l.session.viewer.accountId;
      const page = found.pages.get(viewer);
      if (!page) continue;
      if (l.target.filtering) {
        if (found.blockedOrMuted.has(viewer)) continue;
        const chosen = found.languages.get(viewer);
        const language = found.status.language;
        if (chosen && language !== null && !chosen.includes(language)) continue;
      }
      if (filteredOut(page, found.status, l.target.context)) continue;
      let payload = byViewer.get(viewer);
      if (payload === undefined) {
        const key = JSON.stringify([[...page.flags!.entries()], [...page.filters.entries()]]);
        payload = rendered.get(key);
        if (payload === undefined) {
          const entity = presenter.status(page, found.status);
          payload = entity ? JSON.stringify(entity) : null;
          rendered.set(key, payload);
        }
        byViewer.set(viewer, payload);
      }
      if (payload !== null) l.session.output.send(l.target.stream, message.event, payload);
    }
  }

  /** Statuses rendered after this wait for it (`filtersLoading`), so they meet the new filters. */
  private reloadFilters(session: StreamSession): void {
    session.filtersLoading = this.renderer
      .filters(session.viewer.tenant, session.viewer.accountId)
      .then((filters) => {
        session.filters = filters;
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'Could not reload filters'));
  }

  private onRevocation(message: string): void {
    if (message.endsWith(':*')) {
      const tenantId = message.slice(0, -2);
      // After every listener of this announcement ran, so the token cache has forgotten it.
      setImmediate(() => void this.recheckTokens((s) => s.viewer.tenant.ref.id === tenantId));
      return;
    }
    for (const session of [...this.sessions]) {
      if (session.viewer.tokenKey === message) this.end(session, 'revoked');
    }
  }

  private recheckAll(): void {
    setImmediate(() => {
      void this.recheckTokens(() => true);
      for (const tenantId of new Set([...this.sessions].map((s) => s.viewer.tenant.ref.id)))
        void this.recheckTenant(tenantId);
    });
  }

  private async recheckTokens(which: (s: StreamSession) => boolean): Promise<void> {
    for (const session of [...this.sessions].filter(which)) {
      try {
        const grant = await TenantContext.run(session.viewer.tenant.ref, () =>
          this.tokens.resolve(session.viewer.token),
        );
        if (!grant || !grant.usable) this.end(session, 'revoked');
      } catch (err) {
        this.logger.warn({ err }, 'Could not check a streaming token');
      }
    }
  }

  private async recheckTenant(tenantId: string): Promise<void> {
    if (![...this.sessions].some((s) => s.viewer.tenant.ref.id === tenantId)) return;
    try {
      const rows = (await this.dataSource.query(`SELECT status FROM platform.tenants WHERE id = $1`, [
        tenantId,
      ])) as { status: string }[];
      if (rows[0]?.status === 'active') return;
      for (const session of [...this.sessions])
        if (session.viewer.tenant.ref.id === tenantId) this.end(session, 'suspended');
    } catch (err) {
      this.logger.warn({ err, tenantId }, 'Could not check a tenant for its streams');
    }
  }

  /**
   * Ends every connection before the HTTP server closes: an upgraded socket or an event stream would
   * otherwise keep the server's close waiting for the client to leave.
   */
  beforeApplicationShutdown(): void {
    for (const session of [...this.sessions]) this.end(session, 'shutdown');
  }

  private end(session: StreamSession, reason: 'revoked' | 'suspended' | 'shutdown'): void {
    this.close(session);
    session.output.close(reason);
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.subscriberReady = undefined;
    if (subscriber && subscriber.status !== 'end')
      await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
