import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { isId } from '@townhall/persistence';
import { ComplianceError } from '../compliance.errors';
import { AuditedTransactions } from './audited-transactions';
import { AuditSubjectStore, RevealedPersonalData } from './audit-subject-store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * What may be done with the people behind the audit log's pseudonyms: find a person's subject, read
 * the personal data an entry refers to, and erase a person. Reading and erasing are themselves
 * recorded, with the actor of the current audit context. The callers decide who may do this (see
 * docs/compliance.md, "Who can see what"); nothing here is reachable over HTTP yet.
 */
@Injectable()
export class AuditSubjects {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: AuditSubjectStore,
    private readonly audited: AuditedTransactions,
  ) {}

  /** The subject an identifier (`email:…`, `operator:…`) maps to; null if never recorded or erased. */
  find(identifier: string): Promise<string | null> {
    return this.store.findSubject(this.dataSource.manager, identifier);
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
   * checkpoint stays valid — they never contained the data — while the data becomes unreadable.
   */
  async erase(subjectId: string): Promise<void> {
    await this.audited.run({
      apply: async (manager) => {
        if (!isId(subjectId) || !(await this.store.erase(manager, subjectId)))
          throw new ComplianceError('audit_subject_not_found', 'No such subject, or it was erased before.');
      },
      recorded: () => ({
        action: 'audit.subject.erase',
        target: { type: 'audit_subject', id: subjectId },
        tenant: null,
      }),
      refused: () => ({
        action: 'audit.subject.erase',
        target: { type: 'audit_subject', id: isId(subjectId) ? subjectId : 'unknown' },
        tenant: null,
      }),
    });
  }
}
