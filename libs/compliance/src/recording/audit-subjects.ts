import { Injectable } from '@nestjs/common';
import { isId } from '@townhall/persistence';
import { ComplianceError } from '../compliance.errors';
import { AuditContext } from './audit-context';
import { AuditedTransactions } from './audited-transactions';
import { AuditSubjectStore, RevealedPersonalData } from './audit-subject-store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** As long as the recorder accepts for an identifier. */
export const MAX_SUBJECT_IDENTIFIER = 512;

/**
 * What may be done with the people behind the audit log's pseudonyms: find a person's subject, read
 * the personal data an entry refers to, and erase a person. Each is itself recorded, with the actor
 * of the current audit context. Operators find and erase through the CLI and the operator API;
 * revealing stays a service call (see docs/compliance.md, "Who can see what").
 */
@Injectable()
export class AuditSubjects {
  constructor(
    private readonly store: AuditSubjectStore,
    private readonly audited: AuditedTransactions,
  ) {}

  /**
   * The subject an identifier (`email:…`, `operator:…`) maps to; null if never recorded or erased.
   * Recorded as `audit.subject.lookup`, naming only the subject found: whether a person appears in the
   * log is itself personal. The identifier is stored nowhere — not even encrypted, since a lookup of
   * someone never recorded must not record them, and a found subject's erasure must cover the lookup.
   */
  find(identifier: string): Promise<string | null> {
    const valid =
      typeof identifier === 'string' && identifier.length > 0 && identifier.length <= MAX_SUBJECT_IDENTIFIER;
    return this.audited.run({
      apply: async (manager) => {
        if (!valid)
          throw new ComplianceError(
            'invalid_subject_identifier',
            `An identifier is 1 to ${MAX_SUBJECT_IDENTIFIER} characters, e.g. email:owner@agency.example.`,
          );
        return this.store.findSubject(manager, identifier);
      },
      recorded: (subject) => ({
        action: 'audit.subject.lookup',
        target: { type: 'audit_subject', id: subject ?? 'unknown' },
        tenant: null,
        details: { found: subject !== null },
      }),
      refused: () => ({ action: 'audit.subject.lookup', target: UNKNOWN_SUBJECT, tenant: null }),
    });
  }

  /** The personal data behind an entry's `details.personalDataRef`; erased subjects show as erased. */
  reveal(ref: string): Promise<RevealedPersonalData[]> {
    return this.audited.run({
      apply: async (manager) => {
        if (!UUID.test(ref))
          throw new ComplianceError('invalid_personal_data_ref', 'Not a personal data reference.');
        return this.store.personalData(manager, ref);
      },
      recorded: (rows) => ({
        action: 'audit.personal_data.reveal',
        target: { type: 'audit_personal_data', id: ref },
        tenant: null,
        details: { rows: rows.length },
      }),
      refused: () => ({
        action: 'audit.personal_data.reveal',
        target: { type: 'audit_personal_data', id: UUID.test(ref) ? ref : 'unknown' },
        tenant: null,
      }),
    });
  }

  /**
   * Erases a person: destroys their data key and lookup digest. Every entry, hash, proof and
   * checkpoint stays valid — they never contained the data — while the data becomes unreadable. The
   * person acting cannot erase themselves (`audit_subject_is_own`): the IP addresses, user agents and
   * free text behind their own actions would go with it.
   *
   * Answers the period key the subject's data key was wrapped under: copies of the row made before
   * (backups, old row versions) open with it until it is destroyed (see RotateAuditPeriodKeys).
   */
  async erase(subjectId: string): Promise<{ periodKeyId: string | null }> {
    return this.audited.run({
      apply: async (manager) => {
        if (!isId(subjectId)) throw notFound();
        // Whoever acts may not make the details of their own actions unreadable: another must do it.
        for (const identifier of actingIdentifiers()) {
          if ((await this.store.findSubject(manager, identifier)) === subjectId) {
            throw new ComplianceError(
              'audit_subject_is_own',
              'This subject is the person acting; another operator must erase it.',
            );
          }
        }
        const erased = await this.store.erase(manager, subjectId);
        if (!erased) throw notFound();
        return erased;
      },
      recorded: () => ({
        action: 'audit.subject.erase',
        target: { type: 'audit_subject', id: subjectId },
        tenant: null,
      }),
      refused: () => ({
        action: 'audit.subject.erase',
        target: isId(subjectId) ? { type: 'audit_subject', id: subjectId } : UNKNOWN_SUBJECT,
        tenant: null,
      }),
    });
  }
}

const UNKNOWN_SUBJECT = { type: 'audit_subject', id: 'unknown' };

function notFound(): ComplianceError {
  return new ComplianceError('audit_subject_not_found', 'No such subject, or it was erased before.');
}

/**
 * The identifiers the recorder files the acting person's details under (see DatabaseAuditRecorder): the
 * person behind the actor when the context names one, and the actor itself.
 */
function actingIdentifiers(): string[] {
  const context = AuditContext.current()?.value;
  if (!context) return [];
  const { actor, person } = context;
  return [...(person ? [person.identifier] : []), `${actor.type}:${actor.id}`];
}
