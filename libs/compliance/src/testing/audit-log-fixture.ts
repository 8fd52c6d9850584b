import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import type { AuditEntry } from '../audit-entry';
import { describeAuditKey, signKeyRotation, type AuditKeyDescription } from '../audit-keys';
import { InMemoryAuditLog, type NewAuditEntry } from '../in-memory-audit-log';

/**
 * A deterministic audit log for the compliance tests: 1,050 entries two hours apart from 2025-01-01,
 * three tenants' worth of actions, a checkpoint every 100 entries and one at the end, signed by the
 * "old" key until the rotation on 2025-03-01 and by the "new" key after it.
 */
export const ORIGIN = 'townhall.test/audit';
export const TENANT_A = '110000000000000001';
export const TENANT_B = '110000000000000002';
export const GENERATED_AT = '2025-04-01T00:00:00.000Z';
export const ROTATION_TIME = '2025-03-01T00:00:00.000Z';

/** Fixed test keys: Ed25519 private keys whose seeds are SHA-256 of a name. */
export function ed25519FromSeed(name: string): KeyObject {
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  const seed = createHash('sha256').update(name).digest();
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

export const OLD_KEY = ed25519FromSeed('townhall audit test key 2024');
export const NEW_KEY = ed25519FromSeed('townhall audit test key 2025');
export const UNKNOWN_KEY = ed25519FromSeed('somebody else');

export const OLD_KEY_DESCRIPTION: AuditKeyDescription = describeAuditKey(OLD_KEY, {
  validFrom: '2024-12-01T00:00:00.000Z',
  validTo: ROTATION_TIME,
});
export const NEW_KEY_DESCRIPTION: AuditKeyDescription = describeAuditKey(NEW_KEY, {
  validFrom: ROTATION_TIME,
});
/** The JSON the keys endpoint serves. */
export const TRUSTED_KEYS = { keys: [OLD_KEY_DESCRIPTION, NEW_KEY_DESCRIPTION] };

const START = Date.UTC(2025, 0, 1);
const ACTIONS = [
  'tenant.update',
  'account.suspend',
  'report.resolve',
  'domain_block.create',
  'regulator.export',
];

export function entryTime(seq: number): string {
  return new Date(START + seq * 2 * 3600_000).toISOString();
}

export function signerAt(time: string): KeyObject {
  return time < ROTATION_TIME ? OLD_KEY : NEW_KEY;
}

export function entryInput(seq: number): NewAuditEntry {
  const tenant = seq % 5 < 2 ? TENANT_A : seq % 5 < 4 ? TENANT_B : null;
  return {
    time: entryTime(seq),
    tenant,
    actor: {
      type: seq % 7 === 0 ? 'regulator' : 'operator',
      id: `22000000000000000${seq % 4}`,
      via: `token:${seq % 3}`,
      ...(seq % 11 === 0 ? { onBehalfOf: '330000000000000001' } : {}),
    },
    action: ACTIONS[seq % ACTIONS.length],
    target: tenant ? { type: 'tenant', id: tenant } : { type: 'platform', id: 'platform' },
    outcome: seq % 17 === 0 ? 'denied' : 'success',
    requestId: `req-${seq}`,
    details:
      seq === 7
        ? { note: 'Überprüfung – € 😀', count: 1.5 }
        : { note: `entry ${seq}`, ruleIds: [seq % 4, 2] },
  };
}

export interface FixtureOptions {
  size?: number;
  every?: number;
  /** Rewrites entries before they are logged: how a "history rewrite" log is made. */
  rewrite?: (input: NewAuditEntry, seq: number) => NewAuditEntry;
}

export function buildLog(options: FixtureOptions = {}): InMemoryAuditLog {
  const size = options.size ?? 1050;
  const every = options.every ?? 100;
  const log = new InMemoryAuditLog(ORIGIN, { tenantSeq: true });
  log.addRotation(
    signKeyRotation(
      { time: ROTATION_TIME, previousKeyId: OLD_KEY_DESCRIPTION.keyId, key: NEW_KEY_DESCRIPTION },
      OLD_KEY,
    ),
  );
  for (let seq = 0; seq < size; seq++) {
    const input = options.rewrite ? options.rewrite(entryInput(seq), seq) : entryInput(seq);
    const entry = log.append(input);
    if ((seq + 1) % every === 0) log.checkpoint(signerAt(entry.time), entry.time);
  }
  if (size % every !== 0) {
    const time = new Date(Date.parse(entryTime(size - 1)) + 60_000).toISOString();
    log.checkpoint(signerAt(time), time);
  }
  return log;
}

/** The lines of a bundle (without the final empty string). */
export function bundleLines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
}

export function joinLines(lines: readonly string[]): string {
  return lines.map((line) => line + '\n').join('');
}

type Parsed = { type: string; entry?: AuditEntry; treeSize?: number; [member: string]: unknown };

export function parseLine(line: string): Parsed {
  return JSON.parse(line) as Parsed;
}

export function indexOfEntry(lines: readonly string[], seq: number): number {
  const index = lines.findIndex((line) => {
    const parsed = parseLine(line);
    return parsed.type === 'entry' && parsed.entry?.seq === seq;
  });
  if (index < 0) throw new Error(`no entry line for seq ${seq}`);
  return index;
}

export function indexOfCheckpoint(lines: readonly string[], treeSize: number): number {
  const index = lines.findIndex((line) => {
    const parsed = parseLine(line);
    return parsed.type === 'checkpoint' && parsed.treeSize === treeSize;
  });
  if (index < 0) throw new Error(`no checkpoint line of size ${treeSize}`);
  return index;
}
