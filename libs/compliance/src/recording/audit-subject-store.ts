import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PersonalDataKind, SealedPersonalData } from '../audit-ports';
import { AuditSubjectCipher, type OpenPeriodKey } from './audit-subject-cipher';

/** What one side-table row holds for a reader: the data, or only that it was erased. */
export interface RevealedPersonalData {
  subject: string;
  /** `mentioned` (a person the entry names), `connection` (the actor's IP and user agent), `behalf` (the person behind the actor). */
  kind: PersonalDataKind;
  data: Record<string, string> | null;
  erased: boolean;
}

/** A live subject with its data key. */
export interface OpenSubject {
  id: string;
  key: Buffer;
}

interface StoredSubjectRow {
  id: string;
  key_sealed: string;
  identifier_ciphertext: string | null;
  period_key_id: string;
  period_key_sealed: string;
}

/**
 * A live subject's row with the period key it is wrapped under, read in one snapshot. A row under a
 * destroyed key (an erased subject's row restored from a backup) is not found, even by a process that
 * still holds the key it read before it was destroyed.
 */
const SUBJECT_WITH_PERIOD_KEY = `
  SELECT s.id::text AS id, s.key_sealed, s.identifier_ciphertext,
         k.id::text AS period_key_id, k.key_sealed AS period_key_sealed
    FROM platform.audit_subjects s
    JOIN platform.audit_period_keys k ON k.id = s.period_key_id AND k.key_sealed IS NOT NULL`;

/**
 * The personal-data side table of the audit log (`platform.audit_subjects`, `platform.audit_personal_data`).
 * Every method works in the transaction of the manager it is given, so personal data is written, and
 * disappears, together with the entry that refers to it.
 *
 * Subjects are filed under the lookup keys of the live period keys (see AuditSubjectCipher). The
 * period keys are cached for an hour at most; they change only when the owner starts a period or
 * destroys one (`RotateAuditPeriodKeys`), and a lookup that finds nothing reads them again before it
 * concludes that the person is new. A subject and the period key it is wrapped under are always read in one
 * statement, so a key destroyed after its subjects moved on is never needed.
 */
/** How current a lookup needs the list of live period keys (see `byIdentifier`). */
type PeriodKeysRead = 'cached' | 'fresh' | 'thorough';

/**
 * How long a process trusts its list of live period keys. Past it, the next lookup reads them again, so
 * that a key destroyed elsewhere leaves this process's memory too.
 */
const PERIOD_KEYS_MAX_AGE_MS = 60 * 60 * 1000;

@Injectable()
export class AuditSubjectStore {
  private periods = new Map<string, OpenPeriodKey>();
  private periodsReadAt = 0;

  constructor(private readonly cipher: AuditSubjectCipher) {}

  /** The subject of `identifier`, created with a fresh data key on first mention. */
  async subjectFor(manager: EntityManager, identifier: string): Promise<OpenSubject> {
    const existing = await this.opened(manager, identifier, 'cached');
    if (existing) return existing;
    // Two transactions meeting a new person at once: the second waits for the first, then finds its row,
    // under the period keys as they are now.
    await manager.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [this.cipher.lockNumber(identifier)]);
    const raced = await this.opened(manager, identifier, 'fresh');
    if (raced) return raced;
    for (;;) {
      const { id, period } = await this.newestPeriod(manager);
      const key = this.cipher.newSubjectKey();
      await manager.query(
        `INSERT INTO platform.audit_subjects (id, lookup_digest, key_sealed, identifier_ciphertext, period_key_id)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          id,
          this.cipher.lookupDigest(period, identifier),
          this.cipher.wrapSubjectKey(period, id, key),
          this.cipher.encryptIdentifier(key, identifier),
          period.id,
        ],
      );
      // The row's foreign key holds the period key (FOR KEY SHARE) until the commit, and a rotation
      // locks a key FOR UPDATE before it destroys it: from here on the key stays. Only a rotation that
      // destroyed it just before can have done so; then the subject goes under the newest key.
      const [{ live }] = (await manager.query(
        `SELECT destroyed_at IS NULL AS live FROM platform.audit_period_keys WHERE id = $1`,
        [period.id],
      )) as { live: boolean }[];
      if (live) return { id, key };
      await manager.query(`DELETE FROM platform.audit_subjects WHERE id = $1`, [id]);
      await this.readPeriods(manager);
    }
  }

  /** The subject `identifier` maps to now, without creating one; null when never seen or erased. */
  async findSubject(manager: EntityManager, identifier: string): Promise<string | null> {
    return (await this.byIdentifier(manager, identifier))?.id ?? null;
  }

  /**
   * The subject of `identifier` with its data key if it exists, without creating one. A subject
   * recorded before identifiers were kept gets its identifier now, and its digest under its period key,
   * so that it can move to later period keys.
   */
  existingSubject(manager: EntityManager, identifier: string): Promise<OpenSubject | null> {
    return this.opened(manager, identifier, 'thorough');
  }

  private async opened(
    manager: EntityManager,
    identifier: string,
    keys: PeriodKeysRead,
  ): Promise<OpenSubject | null> {
    const row = await this.byIdentifier(manager, identifier, keys);
    if (!row) return null;
    const period = this.periodKey(row.period_key_id, row.period_key_sealed);
    const key = this.cipher.unwrapSubjectKey(period, row.id, row.key_sealed);
    if (row.identifier_ciphertext === null) {
      // Whoever gets here first moves the subject; a rotation that moved it meanwhile will find it legacy still.
      await manager.query(
        `UPDATE platform.audit_subjects SET lookup_digest = $2, identifier_ciphertext = $3
          WHERE id = $1 AND identifier_ciphertext IS NULL AND period_key_id = $4`,
        [
          row.id,
          this.cipher.lookupDigest(period, identifier),
          this.cipher.encryptIdentifier(key, identifier),
          period.id,
        ],
      );
    }
    return { id: row.id, key };
  }

  /** A side-table row, encrypted under the subject's key and bound to its place, ready to insert. */
  seal(
    row: { ref: string; position: number; subject: OpenSubject; kind: PersonalDataKind },
    data: Record<string, string>,
  ): SealedPersonalData {
    const ciphertext = this.cipher.sealPersonalData(row.subject.key, data, {
      subjectId: row.subject.id,
      ref: row.ref,
      position: row.position,
    });
    return { ref: row.ref, position: row.position, subjectId: row.subject.id, kind: row.kind, ciphertext };
  }

  /** The personal data an entry refers to (`details.personalDataRef`), in the order it was recorded. */
  async personalData(manager: EntityManager, ref: string): Promise<RevealedPersonalData[]> {
    const rows = (await manager.query(
      `SELECT p.position, p.subject_id::text AS subject, p.kind, p.ciphertext, s.key_sealed,
              k.id::text AS period_key_id, k.key_sealed AS period_key_sealed
         FROM platform.audit_personal_data p JOIN platform.audit_subjects s ON s.id = p.subject_id
         LEFT JOIN platform.audit_period_keys k ON k.id = s.period_key_id
        WHERE p.record_ref = $1 ORDER BY p.position`,
      [ref],
    )) as {
      position: number;
      subject: string;
      kind: PersonalDataKind;
      ciphertext: string;
      key_sealed: string | null;
      period_key_id: string | null;
      period_key_sealed: string | null;
    }[];
    return rows.map((r) => {
      if (r.key_sealed === null || r.period_key_id === null || r.period_key_sealed === null)
        return { subject: r.subject, kind: r.kind, data: null, erased: true };
      const period = this.periodKey(r.period_key_id, r.period_key_sealed);
      const key = this.cipher.unwrapSubjectKey(period, r.subject, r.key_sealed);
      const data = this.cipher.openPersonalData(key, r.ciphertext, {
        subjectId: r.subject,
        ref,
        position: r.position,
      });
      return { subject: r.subject, kind: r.kind, data, erased: false };
    });
  }

  /**
   * Destroys the subject's wrapped data key, its lookup digest and its identifier. Its ciphertexts
   * stay as tombstones nobody can open, and the identifier no longer leads to the subject: a later
   * mention makes a new one. The subject keeps the id of the period key its data key was wrapped
   * under: copies of the row made before now open with that key until it is destroyed. Returns that
   * period key's id, or null when the subject does not exist or was erased before.
   */
  async erase(manager: EntityManager, subjectId: string): Promise<{ periodKeyId: string | null } | null> {
    const [rows] = (await manager.query(
      `UPDATE platform.audit_subjects
          SET key_sealed = NULL, lookup_digest = NULL, identifier_ciphertext = NULL, erased_at = now()
        WHERE id = $1 AND erased_at IS NULL RETURNING period_key_id::text AS "periodKeyId"`,
      [subjectId],
    )) as [{ periodKeyId: string | null }[], number];
    return rows[0] ?? null;
  }

  /**
   * The live subject filed under `identifier`'s digest for one of the live period keys, or the legacy
   * lookup key. `keys` says how current the list of period keys must be: as cached (read again after an
   * hour), `fresh` (read now), or `thorough` (as cached, and read again before concluding nobody).
   */
  private async byIdentifier(
    manager: EntityManager,
    identifier: string,
    keys: PeriodKeysRead = 'thorough',
  ): Promise<StoredSubjectRow | null> {
    const find = async (): Promise<StoredSubjectRow | null> => {
      const digests = [...this.periods.values()].map((p) => this.cipher.lookupDigest(p, identifier));
      const legacy = this.cipher.legacyLookupDigest(identifier);
      if (legacy) digests.push(legacy);
      if (digests.length === 0) return null;
      const rows = (await manager.query(
        `${SUBJECT_WITH_PERIOD_KEY} WHERE s.lookup_digest = ANY($1::bytea[]) AND s.key_sealed IS NOT NULL`,
        [digests],
      )) as StoredSubjectRow[];
      return rows[0] ?? null;
    };
    const stale = keys === 'fresh' || Date.now() - this.periodsReadAt > PERIOD_KEYS_MAX_AGE_MS;
    if (stale) await this.readPeriods(manager);
    const found = await find();
    if (found || stale || keys === 'cached') return found;
    // Not under the keys known here: a period may have begun, and the subject moved to it.
    await this.readPeriods(manager);
    return find();
  }

  /** The period key new subjects are wrapped under — the newest live one — and an id for the subject. */
  private async newestPeriod(manager: EntityManager): Promise<{ id: string; period: OpenPeriodKey }> {
    const [row] = (await manager.query(
      `SELECT platform.next_id()::text AS subject_id, id::text AS id, key_sealed FROM platform.audit_period_keys
        WHERE destroyed_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT 1`,
    )) as { subject_id: string; id: string; key_sealed: string }[];
    if (!row) {
      throw new Error(
        'The audit log has no period key to wrap subject keys with: a start of the platform makes one',
      );
    }
    return { id: row.subject_id, period: this.periodKey(row.id, row.key_sealed) };
  }

  private async readPeriods(manager: EntityManager): Promise<void> {
    const rows = (await manager.query(
      `SELECT id::text AS id, key_sealed FROM platform.audit_period_keys WHERE destroyed_at IS NULL`,
    )) as { id: string; key_sealed: string }[];
    const live = new Map<string, OpenPeriodKey>();
    for (const row of rows) live.set(row.id, this.periods.get(row.id) ?? this.open(row.id, row.key_sealed));
    this.periods = live;
    this.periodsReadAt = Date.now();
  }

  private periodKey(id: string, sealed: string): OpenPeriodKey {
    let period = this.periods.get(id);
    if (!period) this.periods.set(id, (period = this.open(id, sealed)));
    return period;
  }

  private open(id: string, sealed: string): OpenPeriodKey {
    return this.cipher.openPeriodKey(id, sealed);
  }
}
