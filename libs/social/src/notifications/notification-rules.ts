/**
 * The SQL condition "this recipient wants a notification from `from` about `status`" (Mastodon's
 * NotifyService filters), shared by every place that raises one: not from an account the recipient
 * blocks, nor one it muted with its notifications, nor one on a domain it blocks unless it follows that
 * account, nor about a status of a conversation it muted. The
 * arguments are SQL expressions (bind parameters or columns); `status` may be NULL.
 */
export function wantsNotification(recipient: string, from: string, status: string): string {
  return `(NOT EXISTS (SELECT 1 FROM account_relations nb
             WHERE nb.kind = 2 AND nb.account_id = ${recipient} AND nb.target_account_id = ${from})
      AND NOT EXISTS (SELECT 1 FROM account_relations nm
             WHERE nm.kind = 3 AND nm.hide_notifications AND nm.account_id = ${recipient}
               AND nm.target_account_id = ${from})
      AND NOT EXISTS (SELECT 1 FROM account_domain_blocks nd JOIN accounts na ON na.domain = nd.domain
             WHERE nd.account_id = ${recipient} AND na.id = ${from}
               AND NOT EXISTS (SELECT 1 FROM account_relations nf
                                WHERE nf.kind = 0 AND nf.account_id = ${recipient} AND nf.target_account_id = ${from}))
      AND (${status} IS NULL OR NOT EXISTS (SELECT 1 FROM conversation_mutes nc
             JOIN statuses ns ON ns.conversation_id = nc.conversation_id
            WHERE ns.id = ${status} AND nc.account_id = ${recipient})))`;
}
