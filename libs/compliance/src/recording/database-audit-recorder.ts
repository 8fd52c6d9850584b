import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditActor, JsonValue } from '../audit-entry';
import { auditEntryProblem } from '../audit-entry';
import {
  AuditRecorder,
  AuditRecordInput,
  AuditStore,
  PersonalDataKind,
  SealedPersonalData,
  UnsequencedAuditEntry,
} from '../audit-ports';
import { ComplianceError } from '../compliance.errors';
import { AuditContext, AuditContextInit } from './audit-context';
import { AuditSubjectStore } from './audit-subject-store';

/** Members of `details` the recorder writes itself; a caller setting them would be misread. */
export const RECORDER_DETAILS = ['subjects', 'personalDataRef'] as const;

const MAX_IDENTIFIER = 512;
const MAX_PERSONAL_VALUE = 2048;

/** Thrown when a change is recorded with no actor given and no audit context: a programming error. */
export class MissingAuditActorError extends Error {
  constructor(action: string) {
    super(
      `Audit entry "${action}" has no actor: record inside an audit context (AuditContext.run) or pass one.`,
    );
    this.name = 'MissingAuditActorError';
  }
}

/**
 * Records entries into the audit store in the caller's transaction (or on their own, for entries that
 * accompany no change). People never appear in an entry:
 * the people it mentions (`input.personal`), free text the actor wrote (`input.authored`), the acting
 * person's IP address and user agent, and the
 * person behind a shared actor go to the encrypted side table under pseudonymous subject ids, and the
 * entry carries only those ids (`details.subjects`, `actor.onBehalfOf`) and a random reference to its
 * side-table rows (`details.personalDataRef`). See docs/compliance.md.
 */
@Injectable()
export class DatabaseAuditRecorder extends AuditRecorder {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: AuditStore,
    private readonly subjects: AuditSubjectStore,
  ) {
    super();
  }

  async record(manager: EntityManager, input: AuditRecordInput): Promise<void> {
    const prepared = prepareEntry(input);
    const sealed = await this.sealPersonalData(manager, prepared, 'create');
    await this.store.append(manager, prepared.entry, sealed ?? []);
    prepared.scope?.noteRecorded();
  }

  async recordAlone(input: AuditRecordInput): Promise<void> {
    const prepared = prepareEntry(input);
    const sealed = await this.sealPersonalData(this.dataSource.manager, prepared, 'existing');
    if (sealed) {
      // One statement: the entry with its side-table rows, sharing it with others under load.
      await this.store.appendAlone(prepared.entry, sealed);
    } else {
      // Someone met for the first time: their subject is created with the entry, in one transaction.
      await this.dataSource.transaction(async (manager) => {
        const created = await this.sealPersonalData(manager, prepared, 'create');
        await this.store.append(manager, prepared.entry, created ?? []);
      });
    }
    prepared.scope?.noteRecorded();
  }

  /**
   * The side-table rows of `prepared`, each sealed under its person's subject key, with the subject ids
   * and the rows' reference put into the entry. Subjects are created on first mention (`create`), or
   * only looked up (`existing`): then null when someone has none yet, and nothing is changed.
   */
  private async sealPersonalData(
    manager: EntityManager,
    prepared: PreparedEntry,
    subjects: 'create' | 'existing',
  ): Promise<SealedPersonalData[] | null> {
    const { entry, rows, mentionsPeople } = prepared;
    if (rows.length === 0) return [];
    const found: NonNullable<Awaited<ReturnType<AuditSubjectStore['existingSubject']>>>[] = [];
    for (const row of rows) {
      const subject =
        subjects === 'create'
          ? await this.subjects.subjectFor(manager, row.identifier)
          : await this.subjects.existingSubject(manager, row.identifier);
      if (!subject) return null;
      found.push(subject);
    }
    const ref = randomUUID();
    const mentioned: JsonValue[] = [];
    const sealed = rows.map((row, position) => {
      const subject = found[position];
      if (row.kind === 'mentioned') mentioned.push(subject.id);
      if (row.kind === 'behalf') entry.actor.onBehalfOf = subject.id;
      return this.subjects.seal({ ref, position, subject, kind: row.kind }, row.data);
    });
    if (mentionsPeople) entry.details.subjects = mentioned;
    entry.details.personalDataRef = ref;
    return sealed;
  }
}

interface PreparedEntry {
  entry: UnsequencedAuditEntry;
  rows: PersonalRow[];
  /** Whether the input names people or carries free text: then `details.subjects` lists them. */
  mentionsPeople: boolean;
  scope: ReturnType<typeof AuditContext.current>;
}

/**
 * The entry for `input`, its actor and request filled in from the audit context, and the personal data
 * that goes to the side table instead. Checked before anything is written, so a malformed entry leaves
 * no personal data behind either.
 */
function prepareEntry(input: AuditRecordInput): PreparedEntry {
  const scope = AuditContext.current();
  const context = scope?.value;
  const actor: AuditActor | undefined = input.actor ?? context?.actor;
  if (!actor) throw new MissingAuditActorError(input.action);
  // The pseudonym of the person behind the actor comes from the context's person, through the side
  // table; a caller that names one could attribute the action to somebody else's subject.
  if (actor.onBehalfOf !== undefined)
    throw new ComplianceError('invalid_audit_entry', 'actor.onBehalfOf is written by the recorder');
  checkPersonal(input);
  // The context's connection data and person describe the context's actor, not another one passed in.
  const own = context !== undefined && sameActor(actor, context.actor);
  const entry: UnsequencedAuditEntry = {
    time: new Date().toISOString(),
    tenant: input.tenant,
    actor: { ...actor },
    action: input.action,
    target: { ...input.target },
    outcome: input.outcome,
    requestId: context?.requestId ?? randomUUID(),
    details: { ...(input.details ?? {}) },
  };
  const problem = auditEntryProblem({ ...entry, seq: 0 });
  if (problem !== null) throw new ComplianceError('invalid_audit_entry', problem);
  return {
    entry,
    rows: personalRows(input, own ? context : undefined, actor),
    mentionsPeople: Boolean(input.personal?.length || input.authored),
    scope,
  };
}

interface PersonalRow {
  identifier: string;
  kind: PersonalDataKind;
  data: Record<string, string>;
}

function personalRows(
  input: AuditRecordInput,
  context: AuditContextInit | undefined,
  actor: AuditActor,
): PersonalRow[] {
  // The person at the keyboard is the one behind the actor, when the context names them.
  const acting = context?.person?.identifier ?? `${actor.type}:${actor.id}`;
  const rows: PersonalRow[] = (input.personal ?? []).map((p) => ({ ...p, kind: 'mentioned' }));
  if (input.authored) rows.push({ identifier: acting, kind: 'mentioned', data: input.authored });
  if (context?.person) rows.push({ ...context.person, kind: 'behalf' });
  const connection: Record<string, string> = {};
  if (context?.ip) connection.ip = context.ip;
  if (context?.userAgent) connection.userAgent = context.userAgent.slice(0, MAX_PERSONAL_VALUE);
  if (Object.keys(connection).length > 0)
    rows.push({ identifier: acting, kind: 'connection', data: connection });
  return rows;
}

function sameActor(a: AuditActor, b: AuditActor): boolean {
  return a.type === b.type && a.id === b.id && a.via === b.via;
}

function checkPersonal(input: AuditRecordInput): void {
  for (const member of RECORDER_DETAILS) {
    if (input.details && member in input.details)
      throw new ComplianceError('invalid_audit_entry', `details.${member} is written by the recorder`);
  }
  for (const p of input.personal ?? []) {
    if (typeof p.identifier !== 'string' || p.identifier.length === 0 || p.identifier.length > MAX_IDENTIFIER)
      throw new ComplianceError(
        'invalid_audit_entry',
        `a personal identifier must be 1 to ${MAX_IDENTIFIER} characters`,
      );
    checkValues(p.data);
  }
  if (input.authored) checkValues(input.authored);
}

function checkValues(data: Record<string, string>): void {
  for (const value of Object.values(data)) {
    if (typeof value !== 'string' || value.length > MAX_PERSONAL_VALUE)
      throw new ComplianceError(
        'invalid_audit_entry',
        `personal data values must be strings of up to ${MAX_PERSONAL_VALUE} characters`,
      );
  }
}
