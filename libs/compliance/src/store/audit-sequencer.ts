import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { auditEntryProblem, type AuditEntry } from '../audit-entry';
import type { UnsequencedAuditEntry } from '../audit-ports';
import { canonicalJsonOfParsed } from '../canonical-json';
import { decodeHash, signCheckpointWith, type AuditCheckpoint } from '../checkpoint';
import { compactRangeHashes, consistencyProof, leafHash, verifyConsistency } from '../merkle';
import {
  AuditLogRepository,
  type PendingRow,
  type Queryable,
  type SequencedRow,
} from './audit-log.repository';
import { AuditOwnerConnection } from './audit-owner-connection';
import { AuditSigningKeys, type AuditKeyRotation } from './audit-signing-keys';
import { MerkleFrontier, type StoredSubtree } from './stored-subtrees';
import { auditOriginProblem } from './audit-origin';

/** What one sequencer transaction did. */
interface SequencerStep {
  sequenced: number;
  /** Pending entries may remain (the batch was full). */
  more: boolean;
}

/**
 * How a step goes: whether it waits for another process's lock, the newest pending id it may take (null:
 * any), and whether it signs a checkpoint of what it sequenced even if none is due yet.
 */
interface StepOptions {
  wait: boolean;
  upTo: string | null;
  finish: boolean;
}

/** Entries moved per transaction, at most: small enough to keep transactions short. */
const BATCH = 1000;

/**
 * The one writer of the log. Appenders only insert pending rows in their own transactions; the sequencer
 * — one process at a time, chosen by the row lock of `audit_sequencer_lock`, which only the owner may take — moves committed pending rows
 * into `audit_entries` in pending-id order, assigning consecutive `seq` and per-tenant `tenantSeq`, leaf
 * hashes and the interior nodes every new leaf completes, and signs a checkpoint every N entries or T
 * seconds, whichever comes first. A batch never crosses a multiple of N past the last checkpoint, so a
 * busy log gets a checkpoint exactly every N entries. Everything a batch does commits together: a crash
 * leaves the pending rows pending. It works on the owner's connection (AuditOwnerConnection): the
 * application role can neither take pending rows nor write the log.
 */
@Injectable()
export class AuditSequencer {
  private readonly logger = new Logger(AuditSequencer.name);
  /** A log that has no checkpoint yet gets its first one T seconds after this process started. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly owner: AuditOwnerConnection,
    private readonly repository: AuditLogRepository,
    private readonly keys: AuditSigningKeys,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /**
   * Sequences what is pending and signs what is due, batch after batch, unless another process is doing
   * it right now (then returns at once). Returns the number of entries sequenced.
   */
  run(signal?: AbortSignal): Promise<number> {
    return this.steps({ wait: false, upTo: null, finish: false }, signal);
  }

  /**
   * Sequences the entries committed before this call — not those that arrive meanwhile, so a busy log
   * cannot keep the caller (a one-shot CLI command) waiting — unless another process is sequencing right
   * now (then returns at once). Returns the number of entries sequenced.
   */
  async runUntilNow(): Promise<number> {
    const upTo = await this.repository.newestPendingId(await this.owner.dataSource());
    if (upTo === null) return 0;
    return this.steps({ wait: false, upTo, finish: false });
  }

  /**
   * Sequences every entry committed before the call (waiting for another sequencer if need be) and
   * signs a checkpoint of the resulting tree unless its newest checkpoint already covers it. Returns
   * the newest checkpoint: null only while the log is empty.
   */
  async checkpointNow(): Promise<AuditCheckpoint | null> {
    // Entries committed before now have ids up to this; later ones are the worker's (else this could
    // chase a busy log forever).
    const owner = await this.owner.dataSource();
    const upTo = (await this.repository.newestPendingId(owner)) ?? '0';
    await this.steps({ wait: true, upTo, finish: true });
    return this.repository.newestCheckpoint(owner);
  }

  /**
   * Retires the current signing key and makes a new one current, with a rotation record signed by the
   * old key (docs/audit-format.md §6), in the caller's transaction on the owner's connection (which
   * then holds the sequencer's lock until it ends). The rotation time lies after every checkpoint the
   * old key signed and after the old key's first moment, so those checkpoints stay inside its window.
   * `nextKeyId`: with a signer module, which of its keys becomes current (see AuditSigningKeys.rotate).
   */
  async rotateKey(m: Queryable, nextKeyId: string | null = null): Promise<AuditKeyRotation> {
    await this.repository.lockSequencer(m, true);
    const newest = await this.repository.newestCheckpoint(m);
    const current = (await this.keys.describeAll(m)).find((k) => k.validTo === null);
    const time = Math.max(
      Date.now(),
      newest ? Date.parse(newest.time) + 1 : 0,
      current ? Date.parse(current.validFrom) + 1 : 0,
    );
    return this.keys.rotate(m, new Date(time), nextKeyId);
  }

  /**
   * Step after step until one finds another process sequencing, one leaves nothing more to take, or
   * `signal` aborts. Returns the number of entries sequenced.
   */
  private async steps(options: StepOptions, signal?: AbortSignal): Promise<number> {
    let sequenced = 0;
    while (!signal?.aborted) {
      const step = await this.step(options);
      if (!step) break;
      sequenced += step.sequenced;
      if (!step.more) break;
    }
    return sequenced;
  }

  private async step(options: StepOptions): Promise<SequencerStep | null> {
    return (await this.owner.dataSource()).transaction(async (m) => {
      if (!(await this.repository.lockSequencer(m, options.wait))) return null;
      const { checkpointEntries, checkpointSeconds } = this.config.audit;
      const size = await this.repository.treeSize(m);
      const newest = await this.repository.newestCheckpoint(m);
      const covered = newest?.treeSize ?? 0;
      const limit = Math.min(BATCH, Math.max(checkpointEntries - (size - covered), 0));
      const pending = limit > 0 ? await this.repository.takePending(m, limit, options.upTo) : [];
      const more = pending.length === limit;
      const treeSize = size + pending.length;
      const lastCheckpointAt = newest ? Date.parse(newest.time) : this.startedAt;
      const due =
        treeSize > covered &&
        (treeSize - covered >= checkpointEntries ||
          Date.now() - lastCheckpointAt >= checkpointSeconds * 1000 ||
          (options.finish && !more));
      if (pending.length === 0 && !due) return { sequenced: 0, more };

      const frontier = new MerkleFrontier(
        size,
        await this.repository.withSubtrees(m, size, (nodes) => compactRangeHashes(nodes, 0, size)),
      );
      await this.append(m, frontier, pending);
      if (due) await this.sign(m, frontier, newest);
      return { sequenced: pending.length, more };
    });
  }

  /** Gives the pending entries their positions and writes them with the nodes they complete. */
  private async append(
    m: Queryable,
    frontier: MerkleFrontier,
    pending: readonly PendingRow[],
  ): Promise<void> {
    const inputs = pending.map((row) => this.readPending(row));
    const tenants = [...new Set(inputs.map((e) => e.tenant).filter((t): t is string => t !== null))];
    const lastTenantSeq = await this.repository.lastTenantSeqs(m, tenants);
    const rows: SequencedRow[] = [];
    const nodes: StoredSubtree[] = [];
    for (const input of inputs) {
      const seq = frontier.treeSize;
      let tenantSeq: number | null = null;
      if (input.tenant !== null) {
        tenantSeq = (lastTenantSeq.get(input.tenant) ?? -1) + 1;
        lastTenantSeq.set(input.tenant, tenantSeq);
      }
      const entry = canonicalJsonOfParsed(sequencedEntry(input, seq, tenantSeq));
      const leaf = leafHash(entry);
      nodes.push(...frontier.append(leaf));
      rows.push({
        seq,
        tenant: input.tenant,
        tenantSeq,
        time: input.time,
        action: input.action,
        entry,
        leaf,
      });
    }
    await this.repository.insertEntries(m, rows);
    await this.repository.insertNodes(m, nodes);
  }

  /**
   * The entry a pending row holds. `append` validated it; a row that is not valid now was written past
   * it (a bug, or someone with database access). It is not dropped silently: its place in the log
   * records that the sequencer rejected it.
   */
  private readPending(row: PendingRow): UnsequencedAuditEntry {
    let problem: string | null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.entry);
      problem = auditEntryProblem(
        parsed === null || typeof parsed !== 'object' ? parsed : { ...parsed, seq: 0 },
      );
      if (problem === null && ('seq' in (parsed as object) || 'tenantSeq' in (parsed as object))) {
        problem = 'a pending entry has no seq or tenantSeq yet';
      }
      // `append` writes canonical JSON; other text (a member given twice, which parsers read
      // differently) was written past it.
      if (problem === null && canonicalJsonOfParsed(parsed) !== row.entry) {
        problem = 'not the canonical JSON append writes';
      }
    } catch {
      problem = 'not JSON';
    }
    if (problem === null) return parsed as UnsequencedAuditEntry;
    this.logger.error({ pendingId: row.id, problem }, 'Rejected a malformed pending audit entry');
    return {
      time: new Date().toISOString(),
      tenant: null,
      actor: { type: 'system', id: 'audit-sequencer' },
      action: 'audit.pending_rejected',
      target: { type: 'audit_pending', id: row.id },
      outcome: 'failure',
      requestId: randomUUID(),
      details: { problem },
    };
  }

  private async sign(m: Queryable, frontier: MerkleFrontier, newest: AuditCheckpoint | null): Promise<void> {
    const origin = this.config.audit.origin;
    const problem = auditOriginProblem(newest?.origin ?? null, origin);
    if (problem !== null) throw new Error(problem);
    const root = frontier.root();
    if (newest) await this.checkExtends(m, newest, frontier.treeSize, root);
    const now = new Date();
    const key = await this.keys.current(m, now);
    // Never before the key's window, the previous checkpoint (clocks of processes differ) or an entry
    // the checkpoint covers (whose time its appender's clock gave): verifiers refuse each of those.
    const latestEntry = await this.repository.latestEntryTime(m, newest?.treeSize ?? 0);
    const time = Math.max(
      now.getTime(),
      key.validFrom.getTime(),
      newest ? Date.parse(newest.time) : 0,
      latestEntry?.getTime() ?? 0,
    );
    const checkpoint = await signCheckpointWith(
      { origin, treeSize: frontier.treeSize, rootHash: root, time: new Date(time).toISOString() },
      key.signer,
    );
    await this.repository.insertCheckpoint(m, checkpoint);
  }

  /**
   * Whether the tree the stored hashes make now extends the newest signed checkpoint: a consistency
   * proof from it, read from the stored subtrees and checked against both roots. Hashes changed in the
   * database behind the sequencer's back would otherwise be signed as a fork of the log; the sequencer
   * stops instead, and every batch is rolled back until an operator has looked.
   */
  private async checkExtends(
    m: Queryable,
    newest: AuditCheckpoint,
    size: number,
    root: Buffer,
  ): Promise<void> {
    const proof = await this.repository.withSubtrees(m, size, (nodes) =>
      consistencyProof(nodes, newest.treeSize, size),
    );
    const signedRoot = decodeHash(newest.rootHash) as Buffer;
    if (!verifyConsistency(newest.treeSize, size, signedRoot, root, proof)) {
      // Logged by whoever ran the sequencer (the worker, on every attempt; the CLI once).
      throw new Error(
        `The audit log's stored hashes do not extend its newest signed checkpoint (tree size ${newest.treeSize}, ` +
          `root ${newest.rootHash}): platform.audit_entries or platform.audit_nodes were changed outside Townhall. ` +
          `Refusing to sign a fork of the log: nothing more is sequenced or signed until the tables are restored ` +
          `(an export up to tree size ${newest.treeSize} and the offline verifier show what differs)`,
      );
    }
  }
}

/**
 * The sequenced entry with its members in RFC 8785 order, so that its canonical text is what
 * JSON.stringify writes (canonicalJsonOfParsed checks that, and sorts otherwise).
 */
function sequencedEntry(input: UnsequencedAuditEntry, seq: number, tenantSeq: number | null): AuditEntry {
  return {
    action: input.action,
    actor: input.actor,
    details: input.details,
    outcome: input.outcome,
    ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
    seq,
    target: input.target,
    tenant: input.tenant,
    ...(tenantSeq !== null ? { tenantSeq } : {}),
    time: input.time,
  };
}
