import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditActor, JsonValue } from '../audit-entry';
import { auditEntryProblem } from '../audit-entry';
import { AuditRecorder, AuditRecordInput, AuditStore, UnsequencedAuditEntry } from '../audit-ports';
import { ComplianceError } from '../compliance.errors';
import { AuditContext, AuditContextInit } from './audit-context';
import { AuditSubjectStore, PersonalDataKind } from './audit-subject-store';

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
 * Records entries into the audit store in the caller's transaction. People never appear in an entry:
 * the people it mentions (`input.personal`), free text the actor wrote (`input.authored`), the acting
 * person's IP address and user agent, and the
 * person behind a shared actor go to the encrypted side table under pseudonymous subject ids, and the
 * entry carries only those ids (`details.subjects`, `actor.onBehalfOf`) and a random reference to its
 * side-table rows (`details.personalDataRef`). See docs/compliance.md.
 */
@Injectable()
export class DatabaseAuditRecorder extends AuditRecorder {
  constructor(
    private readonly store: AuditStore,
    private readonly subjects: AuditSubjectStore,
  ) {
    super();
  }

  async record(manager: EntityManager, input: AuditRecordInput): Promise<void> {
    const scope = AuditContext.current();
    const context = scope?.value;
    const actor: AuditActor | undefined = input.actor ?? context?.actor;
    if (!actor) throw new MissingAuditActorError(input.action);
    checkPersonal(input);
    // The context's connection data and person describe the context's actor, not another one passed in.
    const own = context !== undefined && sameActor(actor, context.actor);
    const rows = personalRows(input, own ? context : undefined, actor);
    const ref = rows.length > 0 ? randomUUID() : undefined;

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
    // Checked before anything is written, so a malformed entry leaves no personal data behind either.
    const problem = auditEntryProblem({ ...entry, seq: 0 });
    if (problem !== null) throw new ComplianceError('invalid_audit_entry', problem);

    const mentioned: JsonValue[] = [];
    for (const [position, row] of rows.entries()) {
      const subject = await this.subjects.subjectFor(manager, row.identifier);
      await this.subjects.storePersonalData(
        manager,
        { ref: ref!, position, subject, kind: row.kind },
        row.data,
      );
      if (row.kind === 'mentioned') mentioned.push(subject.id);
      if (row.kind === 'behalf') entry.actor.onBehalfOf = subject.id;
    }
    if (input.personal?.length || input.authored) entry.details.subjects = mentioned;
    if (ref !== undefined) entry.details.personalDataRef = ref;

    await this.store.append(manager, entry);
    scope?.noteRecorded();
  }
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
