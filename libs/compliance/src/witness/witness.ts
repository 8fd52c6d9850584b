import { verify } from 'node:crypto';
import { ComplianceError } from '../compliance.errors';
import { EMPTY_TREE_ROOT, verifyConsistency } from '../merkle';
import {
  formatTreeSizeBody,
  parseAddCheckpoint,
  parseCheckpointText,
  TLOG_SIZE_CONTENT_TYPE,
  type CheckpointText,
} from './add-checkpoint';
import { cosign } from './cosignature';
import {
  formatSignatureLine,
  formatSignedNote,
  parseSignedNote,
  signedBy,
  splitSignature,
  type NoteSignature,
  type NoteVerifierKey,
} from './signed-note';
import { originHash, type WitnessIdentity, type WitnessState } from './witness-files';

/**
 * A transparency-log witness (https://c2sp.org/tlog-witness): for each log it is configured for
 * (origin and the log's Ed25519 note keys), it keeps the last checkpoint it cosigned, and it cosigns a
 * new one only when the log proves it consistent with that one. Two views of one log — a split view,
 * or history rewritten after the fact — can therefore never both carry its cosignature.
 *
 * The answers follow the specification: 404 for a log it does not know; 403 without a valid signature
 * of a trusted key (a signature of a trusted key that fails is refused, not skipped); 400 for a
 * malformed request or an old size beyond the checkpoint; 409 with its own size (`text/x.tlog.size`)
 * when the old size is not the one it holds — a rollback among them; 422 when the consistency proof
 * fails, or a checkpoint of its own size has another root; 200 with its cosignature, only after the
 * new state is on disk. Checks and update run one at a time per log, so two racing requests cannot
 * roll it back.
 */

export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface WitnessLogEvent {
  level: 'info' | 'warn';
  message: string;
  origin?: string;
  status: number;
}

const TEXT = 'text/plain; charset=utf-8';

class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    /** A correctly signed checkpoint that contradicts what the witness saw: keep it as evidence. */
    readonly evidence = false,
  ) {}
}

export class Witness {
  private readonly logs = new Map<string, NoteVerifierKey[]>();
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(
    private readonly identity: WitnessIdentity,
    logKeys: readonly NoteVerifierKey[],
    private readonly state: WitnessState,
    private readonly events: (event: WitnessLogEvent) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    for (const key of logKeys) this.logs.set(key.name, [...(this.logs.get(key.name) ?? []), key]);
  }

  origins(): string[] {
    return [...this.logs.keys()];
  }

  async addCheckpoint(body: string): Promise<WitnessAnswer> {
    let origin: string | undefined;
    try {
      const request = guard(() => parseAddCheckpoint(body));
      const note = guard(() => parseSignedNote(request.note));
      const checkpoint = guard(() => parseCheckpointText(note.text));
      origin = checkpoint.origin;
      const logSignatures = this.verifyLogSignatures(checkpoint.origin, note.text, note.signatures);
      if (request.oldSize > checkpoint.treeSize) {
        throw new Refusal(
          400,
          `old size ${request.oldSize} is beyond the checkpoint's size ${checkpoint.treeSize}`,
        );
      }
      const cosignature = await this.inTurn(checkpoint.origin, () =>
        this.advance(checkpoint, request.oldSize, request.proof, note.text, logSignatures),
      );
      this.events({
        level: 'info',
        status: 200,
        origin,
        message: `cosigned tree size ${checkpoint.treeSize} (from ${request.oldSize})`,
      });
      return { status: 200, contentType: TEXT, body: formatSignatureLine(cosignature) };
    } catch (err) {
      if (err instanceof Conflict) {
        this.events({
          level: 'info',
          status: 409,
          origin,
          message: `old size ${err.claimed} is not the size this witness holds, ${err.known}`,
        });
        return { status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: formatTreeSizeBody(err.known) };
      }
      if (!(err instanceof Refusal)) throw err;
      if (err.evidence && origin !== undefined) await this.state.keepRefused(origin, body, err.message);
      this.events({
        level: err.evidence ? 'warn' : 'info',
        status: err.status,
        origin,
        message: err.message,
      });
      return { status: err.status, contentType: TEXT, body: `${err.message}\n` };
    }
  }

  /** The last checkpoint cosigned for the log whose origin hashes to `hash` (the monitoring endpoint). */
  async latest(hash: string): Promise<WitnessAnswer> {
    const origin = this.origins().find((o) => originHash(o) === hash);
    const state = origin === undefined ? null : await this.state.read(origin);
    if (!state) return { status: 404, contentType: TEXT, body: 'no checkpoint of that log was cosigned\n' };
    return { status: 200, contentType: TEXT, body: state.note };
  }

  /** The trusted signatures of the log on the note; 404 for an unknown log, 403 without a good one. */
  private verifyLogSignatures(
    origin: string,
    text: string,
    signatures: readonly NoteSignature[],
  ): NoteSignature[] {
    const keys = this.logs.get(origin);
    if (!keys) throw new Refusal(404, `this witness does not witness the log ${origin}`);
    const good: NoteSignature[] = [];
    for (const signature of signatures) {
      const key = keys.find((k) => signedBy(signature, k));
      if (!key) continue;
      const { bytes } = splitSignature(signature);
      if (bytes.length !== 64 || !verify(null, Buffer.from(text, 'utf8'), key.publicKey, bytes)) {
        throw new Refusal(
          403,
          `the signature of ${origin}'s key ${key.keyId.toString('hex')} does not verify`,
        );
      }
      good.push(signature);
    }
    if (good.length === 0) throw new Refusal(403, `no signature of a key this witness trusts for ${origin}`);
    return good;
  }

  /** Checks the checkpoint against the state and, when consistent, records it and cosigns it. */
  private async advance(
    checkpoint: CheckpointText,
    oldSize: number,
    proof: readonly Buffer[],
    text: string,
    logSignatures: readonly NoteSignature[],
  ): Promise<NoteSignature> {
    const { origin, treeSize, rootHash } = checkpoint;
    const known = await this.state.read(origin);
    const knownSize = known?.treeSize ?? 0;
    if (oldSize !== knownSize) throw new Conflict(oldSize, knownSize);
    if (treeSize === 0 && !rootHash.equals(EMPTY_TREE_ROOT)) {
      throw new Refusal(422, 'a checkpoint of size 0 has the root of the empty tree');
    }
    if (oldSize === 0) {
      if (proof.length > 0) throw new Refusal(422, 'a consistency proof from size 0 is empty');
    } else {
      const knownRoot = Buffer.from(known!.rootHash, 'base64');
      if (!verifyConsistency(oldSize, treeSize, knownRoot, rootHash, proof)) {
        throw new Refusal(
          422,
          treeSize === oldSize
            ? `${origin} signed another root for tree size ${treeSize} than the one this witness cosigned`
            : `the consistency proof from tree size ${oldSize} to ${treeSize} does not verify against the checkpoint this witness cosigned: ${origin} shows a history inconsistent with the one it saw`,
          true,
        );
      }
    }
    const now = this.now();
    const cosignature = cosign(text, this.identity.name, this.identity.privateKey, Math.floor(now / 1000));
    await this.state.write({
      origin,
      treeSize,
      rootHash: rootHash.toString('base64'),
      note: formatSignedNote(text, [...logSignatures, cosignature]),
      cosignedAt: new Date(now).toISOString(),
    });
    return cosignature;
  }

  /** Runs `work` after every earlier request for the same log: check and update are one step. */
  private inTurn<T>(origin: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(origin) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(origin, settled);
    void settled.then(() => {
      if (this.turns.get(origin) === settled) this.turns.delete(origin);
    });
    return mine;
  }
}

class Conflict {
  constructor(
    readonly claimed: number,
    readonly known: number,
  ) {}
}

/** A malformed request is a 400 naming what is wrong. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ComplianceError) throw new Refusal(400, err.detail ?? err.message);
    throw err;
  }
}
