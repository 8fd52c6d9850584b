import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import { StatusError } from '../statuses/status-errors';
import { hydrate, type StatusPage } from '../statuses/status-queries';
import { findVisibleStatuses, type PageRequest } from '../statuses/status-records';

/** One direct conversation as one participant sees it (Mastodon's Conversation entity). */
export interface ConversationRecord {
  id: string;
  unread: boolean;
  participants: AccountRecord[];
  lastStatusId: string;
}

/**
 * Records a direct status in the conversations of its local participants, in the posting transaction
 * (Mastodon's AccountConversation): each sees the others as participants; the author's copy is read,
 * the others' unread.
 */
export async function recordDirectStatus(
  m: EntityManager,
  statusId: string,
  conversationId: string,
  authorId: string,
  mentioned: readonly string[],
): Promise<void> {
  const everyone = [...new Set([authorId, ...mentioned])];
  await m.query(
    `INSERT INTO account_conversations (account_id, conversation_id, participant_account_ids, last_status_id, unread)
     SELECT p.id, $2, ARRAY(SELECT x FROM unnest($3::bigint[]) x WHERE x <> p.id ORDER BY x), $1, p.id <> $4
       FROM accounts p WHERE p.id = ANY($3::bigint[]) AND p.domain IS NULL
     ON CONFLICT (account_id, conversation_id, participant_account_ids)
     DO UPDATE SET last_status_id = EXCLUDED.last_status_id,
                   unread = CASE WHEN EXCLUDED.account_id = $4 THEN false ELSE true END`,
    [statusId, conversationId, everyone, authorId],
  );
}

/** The viewer's direct conversations (Mastodon's /api/v1/conversations). */
@Injectable()
export class Conversations {
  constructor(private readonly transactions: TenantTransactions) {}

  /**
   * Newest first by their latest status, paged by it (what the `Link` header carries). A conversation
   * shows its newest status the viewer may still see; one with none left is not shown.
   */
  list(
    viewer: string,
    page: PageRequest,
  ): Promise<{ conversations: ConversationRecord[]; statuses: StatusPage }> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT ac.id::text, ac.unread, ac.participant_account_ids::text[] AS participants, last.id::text AS last_status_id
           FROM account_conversations ac
           CROSS JOIN LATERAL (
             SELECT s.id FROM statuses s
              WHERE s.conversation_id = ac.conversation_id AND s.visibility = 3 AND s.deleted_at IS NULL
                AND (s.account_id = $1 OR EXISTS (SELECT 1 FROM mentions mv WHERE mv.status_id = s.id AND mv.account_id = $1))
              ORDER BY s.id DESC LIMIT 1) last
          WHERE ac.account_id = $1
            AND ($3::bigint IS NULL OR ac.last_status_id < $3) AND ($4::bigint IS NULL OR ac.last_status_id > $4)
          ORDER BY ac.last_status_id ${page.minId ? 'ASC' : 'DESC'} LIMIT $2`,
        [viewer, page.limit, page.maxId ?? null, page.minId ?? page.sinceId ?? null],
      )) as { id: string; unread: boolean; participants: string[]; last_status_id: string }[];
      if (page.minId) rows.reverse();
      return this.present(m, viewer, rows);
    });
  }

  read(viewer: string, id: string): Promise<{ conversations: ConversationRecord[]; statuses: StatusPage }> {
    return this.transactions.run(async (m) => {
      const rows = changedRows<{ id: string }>(
        await m.query(
          `UPDATE account_conversations SET unread = false WHERE id = $1 AND account_id = $2 RETURNING id::text`,
          [checkedId(id), viewer],
        ),
      );
      if (rows.length === 0) throw new StatusError('not_found', 'Record not found');
      const [row] = (await m.query(
        `SELECT id::text, unread, participant_account_ids::text[] AS participants, last_status_id::text
           FROM account_conversations WHERE id = $1`,
        [id],
      )) as { id: string; unread: boolean; participants: string[]; last_status_id: string }[];
      return this.present(m, viewer, [row]);
    });
  }

  /** One of the viewer's conversations as the list shows it (empty when it has nothing to show). */
  one(viewer: string, id: string): Promise<{ conversations: ConversationRecord[]; statuses: StatusPage }> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT id::text, unread, participant_account_ids::text[] AS participants, last_status_id::text
           FROM account_conversations WHERE id = $1 AND account_id = $2 AND last_status_id IS NOT NULL`,
        [checkedId(id), viewer],
      )) as { id: string; unread: boolean; participants: string[]; last_status_id: string }[];
      return this.present(m, viewer, rows);
    });
  }

  /** Removes the conversation from the viewer's list; its statuses stay. */
  async remove(viewer: string, id: string): Promise<void> {
    await this.transactions.run(async (m) => {
      const rows = changedRows(
        await m.query(`DELETE FROM account_conversations WHERE id = $1 AND account_id = $2 RETURNING 1`, [
          checkedId(id),
          viewer,
        ]),
      );
      if (rows.length === 0) throw new StatusError('not_found', 'Record not found');
    });
  }

  private async present(
    m: EntityManager,
    viewer: string,
    rows: { id: string; unread: boolean; participants: string[]; last_status_id: string }[],
  ): Promise<{ conversations: ConversationRecord[]; statuses: StatusPage }> {
    const visible = await findVisibleStatuses(
      m,
      rows.map((r) => r.last_status_id),
      viewer,
    );
    const accounts = new Map(
      (await findAccounts(m, [...new Set(rows.flatMap((r) => r.participants))])).map((a) => [a.id, a]),
    );
    const shown = new Set(visible.map((s) => s.id));
    return {
      conversations: rows
        .filter((r) => shown.has(r.last_status_id))
        .map((r) => ({
          id: r.id,
          unread: r.unread,
          participants: r.participants
            .map((p) => accounts.get(p))
            .filter((a): a is AccountRecord => a !== undefined),
          lastStatusId: r.last_status_id,
        })),
      statuses: await hydrate(m, visible, viewer),
    };
  }
}

function checkedId(id: string): string {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  return id;
}
