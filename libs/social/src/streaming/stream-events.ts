import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { RedisConnection } from '@townhall/core';
import { TenantContext } from '@townhall/tenancy';

/** Mastodon's streaming event names that Townhall raises. */
export type StreamEventName =
  'update' | 'status.update' | 'delete' | 'notification' | 'conversation' | 'filters_changed';

/**
 * What crosses Redis: the event and the id of what it is about, never a rendered entity. The process
 * that holds a connection renders the status, notification or conversation for that connection's
 * viewer; a `delete`'s id is its payload as it is.
 */
export interface StreamMessage {
  event: StreamEventName;
  id?: string;
}

/**
 * The Redis channel (before the deployment's key prefix) of one of a tenant's streams, named as
 * Mastodon names its `timeline:*` channels with the tenant's id after `timeline:`: `public:local`,
 * `hashtag:cats:local`, `list:12`, `direct:7`, `7` (an account's home), `7:notifications`,
 * `system:7` (an account's connections, whatever they stream: filters changed).
 */
export function streamChannel(tenantId: string, name: string): string {
  return `timeline:${tenantId}:${name}`;
}

/** A hashtag as streams name it: Mastodon's lower-cased name without `#`. */
export function streamTagName(raw: string): string {
  return raw.trim().replace(/^#/, '').normalize('NFKC').toLowerCase();
}

const pending = new WeakMap<QueryRunner, { channel: string; message: string }[]>();

/**
 * Queues events on the caller's tenant transaction; they are published when it commits and dropped
 * when it rolls back, so no stream ever shows what did not happen. Outside a transaction (never the
 * case in the use cases) nothing is queued.
 */
export function queueStreamEvent(m: EntityManager, names: readonly string[], message: StreamMessage): void {
  const runner = m.queryRunner;
  if (!runner?.isTransactionActive || names.length === 0) return;
  const tenantId = TenantContext.current().id;
  const list = pending.get(runner) ?? [];
  const text = JSON.stringify(message);
  for (const name of names) list.push({ channel: streamChannel(tenantId, name), message: text });
  pending.set(runner, list);
}

interface StatusAudience {
  visibility: number;
  local: boolean;
  account_id: string;
  reblog: boolean;
  reply_to_other: boolean;
  with_media: boolean;
  silenced: boolean;
  homes: string[];
  tags: string[];
  lists: string[];
  directs: { account: string; conversation: string }[];
}

/**
 * Queues a status event (`update`, `status.update`, `delete`) for every stream that should carry it,
 * read inside the transaction that changed it, as Mastodon's FanOutOnWriteService and
 * RemoveStatusService publish: the home streams of the accounts whose home feed holds it (call after
 * the fan-out, or before a deletion empties the feeds), the lists that show it, and — for a public
 * status that is not a boost, by an account that is not silenced — the public streams (not for a
 * reply to someone else) and its hashtags' streams. A new direct status also tells each local
 * participant's direct stream of its conversation. Each viewer's own checks (visibility, blocks,
 * mutes, filters) are made by the process that holds the viewer's connection.
 */
export async function queueStatusEvent(
  m: EntityManager,
  event: 'update' | 'status.update' | 'delete',
  statusId: string,
): Promise<void> {
  const [s] = (await m.query(
    `SELECT s.visibility, s.local, s.account_id::text, s.reblog_of_id IS NOT NULL AS reblog,
            (s.in_reply_to_account_id IS NOT NULL AND s.in_reply_to_account_id <> s.account_id) AS reply_to_other,
            cardinality(s.media_attachment_ids) > 0 AS with_media, a.silenced_at IS NOT NULL AS silenced,
            ARRAY(SELECT f.account_id::text FROM home_feed f WHERE f.status_id = s.id) AS homes,
            ARRAY(SELECT t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id) AS tags,
            ARRAY(SELECT l.id::text FROM lists l JOIN list_accounts la ON la.list_id = l.id
                   WHERE la.account_id = s.account_id AND s.visibility <= 2
                     AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id
                          OR (l.replies_policy = 'list' AND EXISTS (SELECT 1 FROM list_accounts lr
                                WHERE lr.list_id = l.id AND lr.account_id = s.in_reply_to_account_id))
                          OR (l.replies_policy = 'followed' AND EXISTS (SELECT 1 FROM account_relations fr
                                WHERE fr.kind = 0 AND fr.account_id = l.account_id
                                  AND fr.target_account_id = s.in_reply_to_account_id)))) AS lists,
            COALESCE((SELECT json_agg(json_build_object('account', ac.account_id::text, 'conversation', ac.id::text))
                        FROM account_conversations ac
                       -- Only a direct status leads a conversation: no look at the table for others.
                       WHERE s.visibility = 3 AND ac.last_status_id = s.id), '[]') AS directs
       FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1`,
    [statusId],
  )) as StatusAudience[];
  if (!s) return;
  const names = [...s.homes, ...s.lists.map((id) => `list:${id}`)];
  if (s.visibility === 0 && !s.reblog && !s.silenced) {
    if (!s.reply_to_other) {
      const where = s.local ? 'public:local' : 'public:remote';
      names.push('public', where);
      if (s.with_media) names.push('public:media', `${where}:media`);
    }
    for (const tag of new Set(s.tags.map(streamTagName))) {
      names.push(`hashtag:${tag}`);
      if (s.local) names.push(`hashtag:${tag}:local`);
    }
  }
  queueStreamEvent(m, names, { event, id: statusId });
  if (event === 'update') {
    for (const d of s.directs)
      queueStreamEvent(m, [`direct:${d.account}`], { event: 'conversation', id: d.conversation });
  }
}

/** Queues `notification` events for notifications just written (`RETURNING id, account_id`). */
export function queueNotificationEvents(
  m: EntityManager,
  rows: readonly { id: string; account_id: string }[],
): void {
  for (const r of rows)
    queueStreamEvent(m, [`${r.account_id}:notifications`], { event: 'notification', id: r.id });
}

/**
 * Queues `filters_changed` on an account's system channel: every connection of the account reloads its
 * filters. As in Mastodon 4.3, clients are not sent the event (its streaming server drops messages
 * without a payload, and `filters_changed` has none).
 */
export function queueFiltersChanged(m: EntityManager, accountId: string): void {
  queueStreamEvent(m, [`system:${accountId}`], { event: 'filters_changed' });
}

/**
 * Publishes what transactions queued once they commit: a TypeORM subscriber on the process's one
 * DataSource, so every tenant transaction of every use case is covered without each having to
 * remember. Publishing is not awaited by the commit: a Redis that does not answer delays no request,
 * and the events are lost (streams are live views; timelines remain the record).
 */
@Injectable()
export class StreamEventPublisher
  implements EntitySubscriberInterface, OnModuleInit, BeforeApplicationShutdown
{
  private readonly logger = new Logger(StreamEventPublisher.name);
  private closing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    if (!this.dataSource.subscribers.includes(this)) this.dataSource.subscribers.push(this);
  }

  /** A commit while the process shuts down publishes nothing: it would open a Redis connection again. */
  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const queued = pending.get(event.queryRunner);
    if (!queued) return;
    pending.delete(event.queryRunner);
    if (this.closing) return;
    const redis = this.redis.redis;
    for (const { channel, message } of queued) {
      redis
        .publish(this.redis.key(channel), message)
        .catch((err: unknown) => this.logger.warn({ err, channel }, 'Could not publish a stream event'));
    }
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    pending.delete(event.queryRunner);
  }
}
