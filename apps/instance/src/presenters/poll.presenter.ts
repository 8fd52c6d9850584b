import type { PollRecord } from '@townhall/social';

/** Mastodon's Poll entity (docs.joinmastodon.org/entities/Poll). */
export interface MastodonPoll {
  id: string;
  expires_at: string | null;
  expired: boolean;
  multiple: boolean;
  votes_count: number;
  voters_count: number | null;
  options: { title: string; votes_count: number | null }[];
  emojis: unknown[];
  voted?: boolean;
  own_votes?: number[];
}

/**
 * A poll as `viewer` sees it: with hidden totals, the option counts stay null until the poll ends,
 * except for its author; `voted` and `own_votes` only for someone signed in.
 */
export function presentPoll(poll: PollRecord, viewer: string | null, now = Date.now()): MastodonPoll {
  const expired = poll.expiresAt !== null && poll.expiresAt.getTime() <= now;
  const showTotals = !poll.hideTotals || expired || viewer === poll.accountId;
  return {
    id: poll.id,
    expires_at: poll.expiresAt ? poll.expiresAt.toISOString() : null,
    expired,
    multiple: poll.multiple,
    votes_count: poll.votesCount,
    voters_count: poll.votersCount,
    options: poll.options.map((title, i) => ({ title, votes_count: showTotals ? poll.tallies[i] : null })),
    emojis: [],
    ...(poll.ownVotes === null
      ? {}
      : { voted: poll.ownVotes.length > 0 || viewer === poll.accountId, own_votes: poll.ownVotes }),
  };
}
