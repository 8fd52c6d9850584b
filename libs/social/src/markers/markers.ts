import { Injectable } from '@nestjs/common';
import { TenantTransactions } from '@townhall/tenancy';

export const MARKER_TIMELINES = ['home', 'notifications'] as const;
export type MarkerTimeline = (typeof MARKER_TIMELINES)[number];

export interface Marker {
  lastReadId: string;
  version: number;
  updatedAt: Date;
}

/** Where a user stopped reading each timeline, shared between their apps (Mastodon's markers). */
@Injectable()
export class Markers {
  constructor(private readonly transactions: TenantTransactions) {}

  get(
    accountId: string,
    timelines: readonly MarkerTimeline[],
  ): Promise<Partial<Record<MarkerTimeline, Marker>>> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT timeline, last_read_id::text, version, updated_at FROM markers WHERE account_id = $1 AND timeline = ANY($2)`,
        [accountId, timelines],
      )) as { timeline: MarkerTimeline; last_read_id: string; version: number; updated_at: Date }[];
      return Object.fromEntries(
        rows.map((r) => [
          r.timeline,
          { lastReadId: r.last_read_id, version: r.version, updatedAt: r.updated_at },
        ]),
      );
    });
  }

  /** Saves the given positions; each save of a timeline raises its version by one. */
  save(
    accountId: string,
    positions: Partial<Record<MarkerTimeline, string>>,
  ): Promise<Partial<Record<MarkerTimeline, Marker>>> {
    return this.transactions.run(async (m) => {
      for (const timeline of MARKER_TIMELINES) {
        const id = positions[timeline];
        if (id === undefined) continue;
        await m.query(
          `INSERT INTO markers (account_id, timeline, last_read_id) VALUES ($1, $2, $3)
           ON CONFLICT (account_id, timeline)
           DO UPDATE SET last_read_id = EXCLUDED.last_read_id, version = markers.version + 1, updated_at = now()`,
          [accountId, timeline, id],
        );
      }
      const saved = Object.keys(positions) as MarkerTimeline[];
      const rows = (await m.query(
        `SELECT timeline, last_read_id::text, version, updated_at FROM markers WHERE account_id = $1 AND timeline = ANY($2)`,
        [accountId, saved],
      )) as { timeline: MarkerTimeline; last_read_id: string; version: number; updated_at: Date }[];
      return Object.fromEntries(
        rows.map((r) => [
          r.timeline,
          { lastReadId: r.last_read_id, version: r.version, updatedAt: r.updated_at },
        ]),
      );
    });
  }
}
