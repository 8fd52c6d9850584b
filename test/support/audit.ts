import {
  AuditContext,
  AuditContextInit,
  AuditEntry,
  AuditStore,
  systemAuditContext,
} from '@townhall/compliance';

/**
 * `service` with every method run inside an audit context, for tests that call use cases directly
 * rather than through HTTP or the CLI (which set the context themselves). Audited use cases refuse to
 * run without one, so a test states whom it acts as.
 */
export function actingAs<T extends object>(
  service: T,
  context: AuditContextInit = systemAuditContext('test'),
): T {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown =>
        AuditContext.run(context, () => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

/**
 * The whole audit log as a regulator would receive it: pending entries are sequenced and a checkpoint
 * signed first, then everything is exported through the store. Empty while nothing was ever recorded.
 */
export async function exportedLog(store: AuditStore): Promise<{ text: string; entries: AuditEntry[] }> {
  if ((await store.checkpointNow()) === null) return { text: '', entries: [] };
  let text = '';
  for await (const line of store.exportBundle({})) text += line;
  const entries = text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { type: string; entry?: AuditEntry })
    .filter((line) => line.type === 'entry')
    .map((line) => line.entry!);
  return { text, entries };
}
