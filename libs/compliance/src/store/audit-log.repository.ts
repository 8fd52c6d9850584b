import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { KeyRotationRecord } from '../audit-keys';
import type { SealedPersonalData } from '../audit-ports';
import type { AuditCheckpoint } from '../checkpoint';
import type { MerkleNodeSource, SubtreeRef } from '../merkle';
import { FetchedSubtrees, subtreesRead, type StoredSubtree } from './stored-subtrees';

/** A DataSource or a transaction's EntityManager: what the queries run on. */
export type Queryable = Pick<EntityManager, 'query'>;

/** A row moved out of `audit_pending`: the unsequenced entry's canonical JSON. */
export interface PendingRow {
  id: string;
  entry: string;
}

/** An entry as the sequencer writes it. */
export interface SequencedRow {
  seq: number;
  tenant: string | null;
  tenantSeq: number | null;
  time: string;
  action: string;
  /** RFC 8785 canonical JSON of the entry: what `leaf` hashes and exports show. */
  entry: string;
  leaf: Buffer;
}

export interface SigningKeyRow {
  keyId: string;
  publicKeyPem: string;
  /** Null for a retired key (its private half is deleted) and for a key held outside the database. */
  privateKeySealed: string | null;
  validFrom: Date;
  validTo: Date | null;
}

interface CheckpointRow {
  origin: string;
  tree_size: string;
  root_hash: Buffer;
  time: Date;
  key_id: string;
  signature: Buffer;
  cosignatures: { name: string; signature: string }[] | null;
}

const CHECKPOINT_COLUMNS = 'origin, tree_size, root_hash, time, key_id, signature';
/** A checkpoint as read: its columns and the witnesses' cosignatures of it (signatures in hex). */
const CHECKPOINT_READ = `${CHECKPOINT_COLUMNS},
  (SELECT json_agg(json_build_object('name', w.witness, 'signature', encode(w.signature, 'hex'))
                   ORDER BY w.witness, w.key_id)
     FROM platform.audit_cosignatures w WHERE w.checkpoint_id = audit_checkpoints.id) AS cosignatures`;

function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  const cp: AuditCheckpoint = {
    origin: row.origin,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash.toString('base64'),
    time: row.time.toISOString(),
    keyId: row.key_id,
    signature: row.signature.toString('base64'),
  };
  if (row.cosignatures) {
    cp.cosignatures = row.cosignatures.map((c) => ({
      name: c.name,
      signature: Buffer.from(c.signature, 'hex').toString('base64'),
    }));
  }
  return cp;
}

/**
 * The audit log's tables (migration 1732600300000): queries only, no rules. Methods take the
 * Queryable to run on, so the sequencer can do a whole batch in one transaction.
 */
@Injectable()
export class AuditLogRepository {
  /**
   * Takes the sequencer's lock, the one row of `audit_sequencer_lock` (owner only): waits for it, or
   * (`wait: false`) returns false at once if another process holds it. Released when the transaction ends.
   */
  async lockSequencer(m: Queryable, wait: boolean): Promise<boolean> {
    const rows = (await m.query(
      `SELECT id FROM platform.audit_sequencer_lock WHERE id = 1 FOR UPDATE${wait ? '' : ' SKIP LOCKED'}`,
    )) as unknown[];
    return rows.length === 1;
  }

  async insertPending(m: Queryable, entry: string): Promise<void> {
    await m.query(`INSERT INTO platform.audit_pending (entry) VALUES ($1)`, [entry]);
  }

  /**
   * Several pending entries and the side-table rows they refer to in one statement (so together or not
   * at all), the entries' ids in the order given.
   */
  async insertPendingMany(
    m: Queryable,
    items: readonly { entry: string; personal: readonly SealedPersonalData[] }[],
  ): Promise<void> {
    const personal = items.flatMap((item) => item.personal);
    if (personal.length === 0 && items.length === 1) return this.insertPending(m, items[0].entry);
    await m.query(
      `WITH personal AS (
         INSERT INTO platform.audit_personal_data (record_ref, position, subject_id, kind, ciphertext)
         SELECT * FROM unnest($2::uuid[], $3::smallint[], $4::bigint[], $5::text[], $6::text[]))
       INSERT INTO platform.audit_pending (entry)
       SELECT entry FROM unnest($1::text[]) WITH ORDINALITY AS batch(entry, position) ORDER BY position`,
      [
        items.map((item) => item.entry),
        personal.map((row) => row.ref),
        personal.map((row) => row.position),
        personal.map((row) => row.subjectId),
        personal.map((row) => row.kind),
        personal.map((row) => row.ciphertext),
      ],
    );
  }

  /** The highest pending id visible now (entries committed before this moment have ids up to it). */
  async newestPendingId(m: Queryable): Promise<string | null> {
    const [{ id }] = (await m.query(`SELECT max(id)::text AS id FROM platform.audit_pending`)) as {
      id: string | null;
    }[];
    return id;
  }

  /** Removes and returns up to `limit` committed pending rows (ids ≤ `upTo` if given), oldest first. */
  async takePending(m: Queryable, limit: number, upTo: string | null): Promise<PendingRow[]> {
    // Wrapped in a query because TypeORM returns a bare DELETE's rows together with its count.
    return (await m.query(
      `WITH taken AS (
         DELETE FROM platform.audit_pending
          WHERE id IN (SELECT id FROM platform.audit_pending
                        WHERE $2::bigint IS NULL OR id <= $2::bigint ORDER BY id LIMIT $1)
          RETURNING id, entry)
       SELECT id::text AS id, entry FROM taken ORDER BY taken.id`,
      [limit, upTo],
    )) as PendingRow[];
  }

  /** The number of sequenced entries: the next seq. */
  async treeSize(m: Queryable): Promise<number> {
    const [{ size }] = (await m.query(
      `SELECT coalesce(max(seq) + 1, 0)::text AS size FROM platform.audit_entries`,
    )) as { size: string }[];
    return Number(size);
  }

  /** The latest time of the entries from `from` on (null when there are none): what a checkpoint covers. */
  async latestEntryTime(m: Queryable, from: number): Promise<Date | null> {
    const [{ latest }] = (await m.query(
      `SELECT max(time) AS latest FROM platform.audit_entries WHERE seq >= $1`,
      [from],
    )) as { latest: Date | null }[];
    return latest;
  }

  /** Each tenant's highest tenant_seq so far (absent: the tenant has no entry yet). */
  async lastTenantSeqs(m: Queryable, tenants: readonly string[]): Promise<Map<string, number>> {
    if (tenants.length === 0) return new Map();
    const rows = (await m.query(
      `SELECT t.tenant,
              (SELECT max(e.tenant_seq) FROM platform.audit_entries e WHERE e.tenant_id = t.tenant)::text AS last
         FROM unnest($1::text[]) AS t(tenant)`,
      [tenants],
    )) as { tenant: string; last: string | null }[];
    return new Map(rows.filter((r) => r.last !== null).map((r) => [r.tenant, Number(r.last)]));
  }

  async insertEntries(m: Queryable, rows: readonly SequencedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await m.query(
      `INSERT INTO platform.audit_entries (seq, tenant_id, tenant_seq, time, action, entry, leaf_hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[],
                            $7::bytea[])`,
      [
        rows.map((r) => r.seq),
        rows.map((r) => r.tenant),
        rows.map((r) => r.tenantSeq),
        rows.map((r) => r.time),
        rows.map((r) => r.action),
        rows.map((r) => r.entry),
        rows.map((r) => r.leaf),
      ],
    );
  }

  async insertNodes(m: Queryable, nodes: readonly StoredSubtree[]): Promise<void> {
    if (nodes.length === 0) return;
    await m.query(
      `INSERT INTO platform.audit_nodes (level, index, hash)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
      [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
    );
  }

  /** Hashes of perfect subtrees: leaves from `audit_entries`, interior nodes from `audit_nodes`. */
  async subtrees(m: Queryable, refs: readonly SubtreeRef[]): Promise<StoredSubtree[]> {
    if (refs.length === 0) return [];
    const leaves = refs.filter((r) => r.level === 0);
    const inner = refs.filter((r) => r.level > 0);
    const rows = (await m.query(
      `SELECT 0 AS level, seq::text AS index, leaf_hash AS hash
         FROM platform.audit_entries WHERE seq = ANY($1::bigint[])
       UNION ALL
       SELECT n.level, n.index::text, n.hash
         FROM platform.audit_nodes n
         JOIN unnest($2::smallint[], $3::bigint[]) AS r(level, index) ON n.level = r.level AND n.index = r.index`,
      [leaves.map((r) => r.index), inner.map((r) => r.level), inner.map((r) => r.index)],
    )) as { level: number; index: string; hash: Buffer }[];
    return rows.map((r) => ({ level: r.level, index: Number(r.index), hash: r.hash }));
  }

  /**
   * Runs a proof computation over a log of `size` leaves with just the stored nodes it reads: a dry run
   * names them, one query fetches them.
   */
  async withSubtrees<T>(m: Queryable, size: number, compute: (nodes: MerkleNodeSource) => T): Promise<T> {
    const nodes = new FetchedSubtrees(size, await this.subtrees(m, subtreesRead(size, compute)));
    return compute(nodes);
  }

  /** Entries [from, to) with their leaf hashes and canonical text: an unfiltered export's batch. */
  async exportLeaves(
    m: Queryable,
    from: number,
    to: number,
  ): Promise<{ seq: string; leaf_hash: Buffer; entry: string }[]> {
    return (await m.query(
      `SELECT seq::text, leaf_hash, entry FROM platform.audit_entries
        WHERE seq >= $1 AND seq < $2 ORDER BY audit_entries.seq`,
      [from, to],
    )) as { seq: string; leaf_hash: Buffer; entry: string }[];
  }

  /**
   * The entries in [from, to) that the filters show (at least one filter is set), first `limit` by seq,
   * with their canonical text, read in seq order from an index so that only matching rows are read:
   * `(tenant_id, seq)` with a tenant, else `(action, seq)` once per action (PostgreSQL does not merge
   * `action = ANY(…)` from that index in seq order; it would read and sort every match of the range).
   */
  async exportMatches(
    m: Queryable,
    from: number,
    to: number,
    shown: { tenant: string | null; actions: readonly string[] | null },
    limit: number,
  ): Promise<{ seq: string; leaf_hash: Buffer; entry: string }[]> {
    if (shown.tenant !== null) {
      return (await m.query(
        `SELECT seq::text, leaf_hash, entry FROM platform.audit_entries
          WHERE tenant_id = $4 AND seq >= $1 AND seq < $2 AND ($5::text[] IS NULL OR action = ANY($5::text[]))
          ORDER BY tenant_id, audit_entries.seq LIMIT $3`,
        [from, to, limit, shown.tenant, shown.actions],
      )) as { seq: string; leaf_hash: Buffer; entry: string }[];
    }
    return (await m.query(
      `SELECT matched.seq::text, matched.leaf_hash, matched.entry
         FROM unnest($4::text[]) AS wanted(action)
         CROSS JOIN LATERAL (
           SELECT e.seq, e.leaf_hash, e.entry FROM platform.audit_entries e
            WHERE e.action = wanted.action AND e.seq >= $1 AND e.seq < $2
            ORDER BY e.action, e.seq LIMIT $3) matched
        ORDER BY matched.seq LIMIT $3`,
      [from, to, limit, shown.actions],
    )) as { seq: string; leaf_hash: Buffer; entry: string }[];
  }

  /** The tenant's last entry before position `before`, or null: where its counter stands there. */
  async lastTenantEntryBefore(
    m: Queryable,
    tenant: string,
    before: number,
  ): Promise<{ seq: string; leaf_hash: Buffer; entry: string } | null> {
    const [row] = (await m.query(
      `SELECT seq::text, leaf_hash, entry FROM platform.audit_entries
        WHERE tenant_id = $1 AND seq < $2 ORDER BY tenant_id DESC, audit_entries.seq DESC LIMIT 1`,
      [tenant, before],
    )) as { seq: string; leaf_hash: Buffer; entry: string }[];
    return row ?? null;
  }

  async insertCheckpoint(m: Queryable, cp: AuditCheckpoint): Promise<void> {
    await m.query(
      `INSERT INTO platform.audit_checkpoints (${CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        cp.origin,
        cp.treeSize,
        Buffer.from(cp.rootHash, 'base64'),
        cp.time,
        cp.keyId,
        Buffer.from(cp.signature, 'base64'),
      ],
    );
  }

  /** The largest signed tree head; of several of that size, the last signed. */
  async newestCheckpoint(m: Queryable): Promise<AuditCheckpoint | null> {
    const [row] = (await m.query(
      `SELECT ${CHECKPOINT_READ} FROM platform.audit_checkpoints ORDER BY tree_size DESC, id DESC LIMIT 1`,
    )) as CheckpointRow[];
    return row ? toCheckpoint(row) : null;
  }

  /** The first checkpoint (by size, then signing order) of size ≥ `size`. */
  async firstCheckpointFrom(m: Queryable, size: number): Promise<AuditCheckpoint | null> {
    const [row] = (await m.query(
      `SELECT ${CHECKPOINT_READ} FROM platform.audit_checkpoints
        WHERE tree_size >= $1 ORDER BY tree_size, id LIMIT 1`,
      [size],
    )) as CheckpointRow[];
    return row ? toCheckpoint(row) : null;
  }

  /** Checkpoints with min ≤ treeSize ≤ max, by size then signing order, at most `limit`. */
  async checkpointsBetween(
    m: Queryable,
    min: number,
    max: number,
    limit?: number,
  ): Promise<AuditCheckpoint[]> {
    const rows = (await m.query(
      `SELECT ${CHECKPOINT_READ} FROM platform.audit_checkpoints
        WHERE tree_size >= $1 AND tree_size <= $2 ORDER BY tree_size, id LIMIT $3`,
      [min, max, limit ?? null],
    )) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  /** Every key with its sealed private key (if the database holds it): for the owner's connection only. */
  async signingKeys(m: Queryable): Promise<SigningKeyRow[]> {
    return (await m.query(
      `SELECT key_id AS "keyId", public_key_pem AS "publicKeyPem", private_key_sealed AS "privateKeySealed",
              valid_from AS "validFrom", valid_to AS "validTo"
         FROM platform.audit_signing_keys ORDER BY valid_from, key_id`,
    )) as SigningKeyRow[];
  }

  /** Every key without its private half: the columns the application role may read. */
  async publicSigningKeys(m: Queryable): Promise<Omit<SigningKeyRow, 'privateKeySealed'>[]> {
    return (await m.query(
      `SELECT key_id AS "keyId", public_key_pem AS "publicKeyPem", valid_from AS "validFrom", valid_to AS "validTo"
         FROM platform.audit_signing_keys ORDER BY valid_from, key_id`,
    )) as Omit<SigningKeyRow, 'privateKeySealed'>[];
  }

  /** Inserts a key as the current one, unless the log already has a current key. */
  async insertSigningKey(m: Queryable, key: Omit<SigningKeyRow, 'validTo'>): Promise<void> {
    await m.query(
      `INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [key.keyId, key.publicKeyPem, key.privateKeySealed, key.validFrom],
    );
  }

  /** Ends the key's validity at `validTo` and deletes its private half. */
  async retireSigningKey(m: Queryable, keyId: string, validTo: Date): Promise<void> {
    await m.query(
      `UPDATE platform.audit_signing_keys SET valid_to = $2, private_key_sealed = NULL
        WHERE key_id = $1 AND valid_to IS NULL`,
      [keyId, validTo],
    );
  }

  async insertRotation(m: Queryable, record: KeyRotationRecord): Promise<void> {
    await m.query(
      `INSERT INTO platform.audit_key_rotations (time, previous_key_id, key_id, record) VALUES ($1, $2, $3, $4)`,
      [record.time, record.previousKeyId, record.key.keyId, JSON.stringify(record)],
    );
  }

  /** Every rotation record, in the order they happened. */
  async rotations(m: Queryable): Promise<KeyRotationRecord[]> {
    const rows = (await m.query(`SELECT record FROM platform.audit_key_rotations ORDER BY id`)) as {
      record: string;
    }[];
    return rows.map((r) => JSON.parse(r.record) as KeyRotationRecord);
  }
}
