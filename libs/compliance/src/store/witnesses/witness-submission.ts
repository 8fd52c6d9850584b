import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TOWNHALL_CONFIG, type AuditWitnessConfig, type TownhallConfig } from '@townhall/core';
import { checkpointSigningInput, type AuditCheckpoint } from '../../checkpoint';
import { consistencyProof } from '../../merkle';
import { formatAddCheckpoint, parseTreeSizeBody } from '../../witness/add-checkpoint';
import { checkCosignature, parseCosignerKey } from '../../witness/cosignature';
import { parseSignatureLines, signedBy, type NoteVerifierKey } from '../../witness/signed-note';
import { AuditLogRepository } from '../audit-log.repository';
import { AuditOwnerConnection } from '../audit-owner-connection';
import { AuditWitnessesRepository } from './audit-witnesses.repository';
import { CheckpointNotes } from './checkpoint-notes';
import { postAddCheckpoint, type WitnessResponse } from './witness-client';

/** The longest wait between attempts at a witness that keeps failing. */
export const WITNESS_MAX_RETRY_MS = 15 * 60 * 1000;

interface ConfiguredWitness {
  config: AuditWitnessConfig;
  key: NoteVerifierKey;
}

/** A failed attempt: what to log and how loudly. */
class SubmissionFailure {
  constructor(
    readonly message: string,
    /** `error` when the witness's answer means the log itself may be at fault (a split view, a rollback). */
    readonly level: 'warn' | 'error' = 'warn',
  ) {}
}

/**
 * Submits the log's newest checkpoint to every configured witness (C2SP tlog-witness `add-checkpoint`)
 * and stores the cosignatures they return, after verifying them with the witness's key. Never on the
 * audit append path: workers run it on a timer (`WitnessSubmissionWorker`), and what it knows about each
 * witness lives in `platform.audit_witnesses`, so a restart or a flushed Redis loses nothing.
 *
 * The consistency proof starts from the size the witness last said it holds (0 the first time). When
 * the witness answers 409 with another size — it was given a checkpoint this platform has forgotten
 * about, or the row is stale — the proof is made from that size and sent once more. A witness that is
 * down or refuses is tried again later, waiting TOWNHALL_AUDIT_WITNESS_RETRY_MS, doubled on every
 * further failure up to 15 minutes; only the newest checkpoint is ever sent, so a witness that comes
 * back after hours is brought up to date in one request. A lease on the witness's row lets one process
 * talk to a witness at a time. The schedule is the application's to keep; the cosignatures are stored
 * by the audit log's owner (`AuditOwnerConnection`), like the log itself.
 */
@Injectable()
export class WitnessSubmission {
  private readonly logger = new Logger(WitnessSubmission.name);
  private readonly witnesses: ConfiguredWitness[];
  private registered = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly log: AuditLogRepository,
    private readonly rows: AuditWitnessesRepository,
    private readonly notes: CheckpointNotes,
    private readonly owner: AuditOwnerConnection,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    this.witnesses = config.audit.witnesses.map((w) => ({ config: w, key: parseCosignerKey(w.vkey) }));
  }

  get configured(): boolean {
    return this.witnesses.length > 0;
  }

  /** One round: the newest checkpoint to every witness that is due and has not cosigned it. */
  async run(signal: AbortSignal): Promise<void> {
    if (!this.configured) return;
    if (!this.registered) {
      await this.rows.register(this.dataSource, this.config.audit.witnesses);
      this.registered = true;
    }
    const newest = await this.log.newestCheckpoint(this.dataSource);
    if (!newest) return;
    await Promise.all(this.witnesses.map((w) => this.submitTo(w, newest, signal)));
  }

  private async submitTo(
    witness: ConfiguredWitness,
    newest: AuditCheckpoint,
    signal: AbortSignal,
  ): Promise<void> {
    if (newest.cosignatures?.some((c) => signedBy(c, witness.key))) return;
    const name = witness.config.name;
    const leaseMs = 3 * this.config.audit.witnessTimeoutMs + 5000;
    const claim = await this.rows.claim(this.dataSource, name, leaseMs);
    if (!claim) return;
    try {
      await this.submit(witness, newest, claim.cosignedSize ?? 0, signal);
      await this.rows.succeeded(this.dataSource, name, newest.treeSize);
      this.logger.log(`Witness ${name} cosigned audit checkpoint ${newest.treeSize}`);
    } catch (err) {
      if (signal.aborted) {
        await this.rows.release(this.dataSource, name);
        return;
      }
      const failure =
        err instanceof SubmissionFailure
          ? err
          : new SubmissionFailure(
              `witness ${name} (${witness.config.url}) could not be reached: ${describe(err)}`,
            );
      const { witnessRetryMs } = this.config.audit;
      await this.rows.failed(this.dataSource, name, failure.message, witnessRetryMs, WITNESS_MAX_RETRY_MS);
      if (failure.level === 'error') this.logger.error(`Audit witnessing: ${failure.message}`);
      else this.logger.warn(`Audit witnessing: ${failure.message}; retrying later`);
    }
  }

  /** Sends `checkpoint` with a proof from `oldSize`, following one 409; stores the cosignature. */
  private async submit(
    witness: ConfiguredWitness,
    checkpoint: AuditCheckpoint,
    oldSize: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { name, url } = witness.config;
    const size = checkpoint.treeSize;
    const note = await this.notes.note(checkpoint, false);
    let old = oldSize;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (old > size) {
        throw new SubmissionFailure(
          `witness ${name} has cosigned tree size ${old} of ${checkpoint.origin}, beyond this log's newest checkpoint ${size}: ` +
            'the log lost entries it had published (a database restored from an old backup?) or another log signs under this origin and key',
          'error',
        );
      }
      const proof =
        old === 0
          ? []
          : await this.log.withSubtrees(this.dataSource, size, (nodes) => consistencyProof(nodes, old, size));
      const answer = await postAddCheckpoint(
        url,
        formatAddCheckpoint({ oldSize: old, proof, note }),
        this.config.audit.witnessTimeoutMs,
        signal,
      );
      if (answer.status === 409) {
        const known = parseTreeSizeBody(answer.body);
        if (known === null) throw refused(witness, answer, 'a 409 without its tree size');
        await this.rows.learnSize(this.dataSource, name, known);
        old = known;
        continue;
      }
      if (answer.status !== 200) throw refused(witness, answer, null, checkpoint, old);
      await this.storeCosignature(witness, checkpoint, answer);
      return;
    }
    throw new SubmissionFailure(`witness ${name} changed the size it holds twice during one submission`);
  }

  private async storeCosignature(
    witness: ConfiguredWitness,
    checkpoint: AuditCheckpoint,
    answer: WitnessResponse,
  ): Promise<void> {
    const text = checkpointSigningInput(checkpoint).toString('utf8');
    let lines;
    try {
      lines = parseSignatureLines(answer.body);
    } catch (err) {
      throw new SubmissionFailure(
        `witness ${witness.config.name} answered 200 without cosignature lines: ${describe(err)}`,
      );
    }
    // Signed-note rules: lines of other keys are ignored; one of this key that does not verify is refused.
    for (const line of lines) {
      const check = checkCosignature(text, line, witness.key);
      if (check.status === 'other_key') continue;
      if (check.status === 'invalid') {
        throw new SubmissionFailure(
          `witness ${witness.config.name} returned an invalid cosignature: ${check.why}`,
        );
      }
      // Cosignatures are evidence: the owner stores them, as it writes the log.
      await this.rows.insertCosignature(await this.owner.dataSource(), checkpoint, {
        name: line.name,
        signature: Buffer.from(line.signature, 'base64'),
        timestamp: check.timestamp,
      });
      return;
    }
    throw new SubmissionFailure(
      `witness ${witness.config.name} answered without a cosignature of its configured key ${witness.key.keyId.toString('hex')}: is TOWNHALL_AUDIT_WITNESSES given its current verifier key?`,
    );
  }
}

/** What a refusal by the witness means, for the operator who reads the log line. */
function refused(
  witness: ConfiguredWitness,
  answer: WitnessResponse,
  problem: string | null,
  checkpoint?: AuditCheckpoint,
  old?: number,
): SubmissionFailure {
  const name = witness.config.name;
  const said = answer.body.trim().slice(0, 300);
  const because = said ? `: "${said}"` : '';
  if (problem !== null)
    return new SubmissionFailure(`witness ${name} answered ${answer.status} (${problem})${because}`);
  switch (answer.status) {
    case 403:
      return new SubmissionFailure(
        `witness ${name} does not accept the log's signature (403)${because}. Give it the log's current verifier key (GET /api/platform/v1/audit/verifier-keys), after a key rotation too`,
      );
    case 404:
      return new SubmissionFailure(`witness ${name} does not witness ${checkpoint?.origin} (404)${because}`);
    case 422:
      return new SubmissionFailure(
        `witness ${name} refused the consistency proof from tree size ${old} to ${checkpoint?.treeSize} (422)${because}. ` +
          'It holds a checkpoint of this log that this log cannot extend: a split view or rewritten history. Investigate before anything else',
        'error',
      );
    default:
      return new SubmissionFailure(`witness ${name} answered ${answer.status}${because}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
