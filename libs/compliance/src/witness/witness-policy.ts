import type { AuditVerificationFailure, CosignedCheckpointLine } from '../audit-verification';
import { checkpointSigningInput } from '../checkpoint';
import { checkCosignature } from './cosignature';
import { decodeStrictBase64, isKeyName, type NoteSignature, type NoteVerifierKey } from './signed-note';

/**
 * What `townhall audit verify --witness KEY … --witnesses-required K` adds to a verification: the
 * bundle's newest checkpoint must carry valid cosignatures (C2SP tlog-cosignature) of at least K of
 * the given witnesses. A platform that shows two regulators two different logs under one origin and
 * key (a split view) can verify both only if some witness cosigned both, which an honest witness never
 * does: it cosigns only checkpoints consistent with everything it saw of that log.
 *
 * Signed-note rules apply: a cosignature by a key that is not given is ignored; one whose name and key
 * ID match a given witness but whose signature does not verify fails the bundle (`bad_signature`).
 */

export interface WitnessPolicy {
  witnesses: readonly NoteVerifierKey[];
  /** At least 1, at most the number of witnesses. */
  required: number;
}

export interface WitnessCosignature {
  name: string;
  /** When the witness cosigned, RFC 3339 (from the cosignature's timestamp, POSIX seconds). */
  time: string;
}

export type WitnessPolicyResult = { ok: true; witnessed: WitnessCosignature[] } | AuditVerificationFailure;

/** The `cosignatures` member of a bundle's checkpoint line, or why it is not one. */
export function readCosignatures(value: unknown): NoteSignature[] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return 'cosignatures must be a list';
  const out: NoteSignature[] = [];
  for (const item of value) {
    const c = item as Partial<NoteSignature> | null;
    if (
      typeof c !== 'object' ||
      c === null ||
      Object.keys(c).length !== 2 ||
      typeof c.name !== 'string' ||
      !isKeyName(c.name) ||
      typeof c.signature !== 'string' ||
      (decodeStrictBase64(c.signature)?.length ?? 0) < 5
    ) {
      return 'every cosignature is {"name": key name, "signature": base64 of key ID and signature}';
    }
    out.push({ name: c.name, signature: c.signature });
  }
  return out;
}

export function checkWitnessPolicy(
  newest: readonly CosignedCheckpointLine[],
  policy: WitnessPolicy,
): WitnessPolicyResult {
  if (newest.length === 0) {
    return {
      ok: false,
      reason: 'unwitnessed',
      message: 'the bundle has no checkpoint for witnesses to have cosigned',
    };
  }
  const size = newest[0].checkpoint.treeSize;
  const found = new Map<string, WitnessCosignature>();
  for (const { checkpoint, cosignatures } of newest) {
    const lines = readCosignatures(cosignatures);
    if (typeof lines === 'string') {
      return { ok: false, reason: 'malformed', checkpoint: size, message: `checkpoint ${size}: ${lines}` };
    }
    const text = checkpointSigningInput(checkpoint).toString('utf8');
    for (const witness of policy.witnesses) {
      for (const line of lines) {
        const check = checkCosignature(text, line, witness);
        if (check.status === 'invalid') {
          return {
            ok: false,
            reason: 'bad_signature',
            checkpoint: size,
            message: `the cosignature of witness ${witness.name} on checkpoint ${size} is not valid: ${check.why}`,
          };
        }
        if (check.status === 'valid' && !found.has(witness.text)) {
          found.set(witness.text, {
            name: witness.name,
            time: new Date(check.timestamp * 1000).toISOString(),
          });
        }
      }
    }
  }
  if (found.size >= policy.required) return { ok: true, witnessed: [...found.values()] };
  const have = [...found.values()].map((w) => `${w.name} (${w.time})`);
  const missing = policy.witnesses.filter((w) => !found.has(w.text)).map((w) => w.name);
  return {
    ok: false,
    reason: 'unwitnessed',
    checkpoint: size,
    message:
      `the newest checkpoint (tree size ${size}) carries valid cosignatures of ${found.size} of the ` +
      `${policy.required} witnesses required` +
      (have.length ? `: cosigned by ${have.join(', ')}` : '') +
      `; no cosignature of ${missing.join(', ')}. ` +
      'Export up to a checkpoint the witnesses have cosigned, or ask the operator why they have not',
  };
}
