import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { AuditActor } from '../audit-entry';
import type { AuditContextValue, AuditPersonalData } from '../audit-ports';

/** What the edge knows about who is acting, for the recorder to fill entries in from. */
export interface AuditContextInit extends AuditContextValue {
  /**
   * The person behind a shared actor — the operating-system account running the CLI, say. Personal
   * data: the recorder stores it encrypted and puts only its pseudonymous subject id into
   * `actor.onBehalfOf`.
   */
  person?: AuditPersonalData;
}

/**
 * One audit context: set once at the edge (an operator request, a CLI command, a job) and read by
 * `AuditRecorder.record` wherever a change is recorded. It also counts what was recorded inside it, so
 * the edge can tell a change that forgot its entry.
 */
export class AuditScope {
  readonly value: Readonly<AuditContextInit>;
  private count = 0;

  constructor(value: AuditContextInit) {
    this.value = Object.freeze({ ...value, actor: Object.freeze({ ...value.actor }) });
  }

  /** Runs `fn` (and everything it awaits) inside this context. */
  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }

  /** Entries recorded inside this context so far, including refusals. */
  get recorded(): number {
    return this.count;
  }

  noteRecorded(): void {
    this.count += 1;
  }
}

const storage = new AsyncLocalStorage<AuditScope>();

/**
 * The audit context of the running request, command or job, carried through async calls like the
 * tenant context. Use cases never pass the actor along: the recorder takes it from here, and recording
 * outside any context is refused, so no change can be recorded as nobody's.
 */
export const AuditContext = {
  run<T>(value: AuditContextInit, fn: () => T): T {
    return new AuditScope(value).run(fn);
  },
  current(): AuditScope | undefined {
    return storage.getStore();
  },
};

/**
 * A context for work the platform does by itself (start-up, jobs). `id` names the part of Townhall
 * that acts; every run gets a random request id, so its entries carry an unpredictable value
 * (docs/audit-format.md §12) and can be told apart.
 */
export function systemAuditContext(
  id: string,
  extra: Omit<AuditContextInit, 'actor'> = {},
): AuditContextInit {
  return { actor: systemActor(id), requestId: randomUUID(), ...extra };
}

export function systemActor(id: string): AuditActor {
  return { type: 'system', id };
}
