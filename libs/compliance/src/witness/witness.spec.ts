import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  checkpointNote,
  checkpointSigningInput,
  noteVerifierKey,
  signCheckpoint,
  type AuditCheckpoint,
} from '../checkpoint';
import { InMemoryAuditLog } from '../in-memory-audit-log';
import { consistencyProof, EMPTY_TREE_ROOT } from '../merkle';
import { ed25519FromSeed, entryInput } from '../testing/audit-log-fixture';
import { formatAddCheckpoint, TLOG_SIZE_CONTENT_TYPE } from './add-checkpoint';
import { checkCosignature } from './cosignature';
import { NOTE_ED25519, parseSignatureLines, parseVerifierKey } from './signed-note';
import { Witness } from './witness';
import { originHash, type WitnessedCheckpoint, type WitnessState } from './witness-files';
import { parseCosignerKey } from './cosignature';
import { formatVerifierKey, NOTE_COSIGNATURE_V1 } from './signed-note';
import { rawEd25519PublicKey } from '../audit-keys';

const ORIGIN = 'townhall.test/audit';
const LOG_KEY = ed25519FromSeed('witness spec log key');
const WITNESS_KEY = ed25519FromSeed('witness spec witness key');
const WITNESS_NAME = 'witness.test/w1';
const WITNESS_VKEY = formatVerifierKey(WITNESS_NAME, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(WITNESS_KEY));

/** The state in memory: what the spec checks is the witness's decisions, not the files (witness-files.spec). */
class MemoryState implements WitnessState {
  readonly states = new Map<string, WitnessedCheckpoint>();
  readonly refused: { origin: string; why: string }[] = [];
  read(origin: string): Promise<WitnessedCheckpoint | null> {
    return Promise.resolve(this.states.get(origin) ?? null);
  }
  write(state: WitnessedCheckpoint): Promise<void> {
    this.states.set(state.origin, state);
    return Promise.resolve();
  }
  keepRefused(origin: string, _request: string, why: string): Promise<void> {
    this.refused.push({ origin, why });
    return Promise.resolve();
  }
}

function logOf(size: number, variant = ''): InMemoryAuditLog {
  const log = new InMemoryAuditLog(ORIGIN, { tenantSeq: true });
  for (let seq = 0; seq < size; seq++) {
    const input = entryInput(seq);
    log.append(variant && seq >= 3 ? { ...input, details: { ...input.details, variant } } : input);
  }
  return log;
}

function signed(log: InMemoryAuditLog, size: number, key: KeyObject = LOG_KEY): AuditCheckpoint {
  return signCheckpoint(
    {
      origin: ORIGIN,
      treeSize: size,
      rootHash: log.tree.root(size),
      time: `2025-02-0${1 + (size % 8)}T00:00:00.000Z`,
    },
    key,
  );
}

function request(log: InMemoryAuditLog, oldSize: number, size: number, key: KeyObject = LOG_KEY): string {
  const cp = signed(log, size, key);
  const proof = oldSize === 0 ? [] : consistencyProof(log.tree, oldSize, size);
  return formatAddCheckpoint({ oldSize, proof, note: checkpointNote(cp, createPublicKey(key)) });
}

describe('the witness (C2SP tlog-witness add-checkpoint)', () => {
  let state: MemoryState;
  let witness: Witness;
  const log = logOf(40);

  beforeEach(() => {
    state = new MemoryState();
    const logKey = parseVerifierKey(noteVerifierKey(ORIGIN, createPublicKey(LOG_KEY)), [NOTE_ED25519]);
    witness = new Witness(
      { name: WITNESS_NAME, privateKey: WITNESS_KEY, vkey: WITNESS_VKEY },
      [logKey],
      state,
    );
  });

  it('cosigns a first checkpoint, then only consistent extensions, each cosignature verifying', async () => {
    const first = await witness.addCheckpoint(request(log, 0, 10));
    expect(first.status).toBe(200);
    const [line] = parseSignatureLines(first.body);
    const text = checkpointSigningInput(signed(log, 10)).toString('utf8');
    expect(checkCosignature(text, line, parseCosignerKey(WITNESS_VKEY))).toMatchObject({ status: 'valid' });
    expect(state.states.get(ORIGIN)).toMatchObject({ treeSize: 10 });

    const next = await witness.addCheckpoint(request(log, 10, 33));
    expect(next.status).toBe(200);
    expect(state.states.get(ORIGIN)).toMatchObject({
      treeSize: 33,
      rootHash: log.tree.root(33).toString('base64'),
    });
    // The monitoring view: the checkpoint with the log's signature and the witness's cosignature.
    const latest = await witness.latest(originHash(ORIGIN));
    expect(latest.status).toBe(200);
    expect(latest.body).toContain(`\n\n\u2014 ${ORIGIN} `);
    expect(latest.body).toContain(`\u2014 ${WITNESS_NAME} `);
  });

  it('answers 409 with its size to an old size it does not hold, rolled back or ahead', async () => {
    await witness.addCheckpoint(request(log, 0, 20));
    for (const [oldSize, size] of [
      [0, 25],
      [10, 25],
      [30, 35],
      [10, 15],
    ]) {
      const answer = await witness.addCheckpoint(request(log, oldSize, size));
      expect(answer).toEqual({ status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: '20\n' });
    }
    expect(state.states.get(ORIGIN)?.treeSize).toBe(20);
  });

  it('refuses a second view of the log (same origin and key, other entries): 422, kept as evidence', async () => {
    await witness.addCheckpoint(request(log, 0, 20));
    const other = logOf(40, 'the other view');
    expect(other.tree.root(20).equals(log.tree.root(20))).toBe(false);

    // The other view does not know the witness's size at first, then proves against it and fails.
    expect((await witness.addCheckpoint(request(other, 0, 30))).status).toBe(409);
    const extension = await witness.addCheckpoint(request(other, 20, 30));
    expect(extension.status).toBe(422);
    expect(extension.body).toMatch(/inconsistent/);
    // Same size, another root: a fork.
    const fork = await witness.addCheckpoint(request(other, 20, 20));
    expect(fork.status).toBe(422);
    expect(state.states.get(ORIGIN)).toMatchObject({
      treeSize: 20,
      rootHash: log.tree.root(20).toString('base64'),
    });
    expect(state.refused).toHaveLength(2);
  });

  it('cosigns the checkpoint of its own size again when the root is the same', async () => {
    await witness.addCheckpoint(request(log, 0, 20));
    expect((await witness.addCheckpoint(request(log, 20, 20))).status).toBe(200);
  });

  it('refuses what is not for it or not signed by the log', async () => {
    const stranger = ed25519FromSeed('not the log');
    expect((await witness.addCheckpoint(request(log, 0, 10, stranger))).status).toBe(403);

    // A signature line of the log's key that does not verify is refused, not skipped.
    const body = request(log, 0, 10);
    const tampered = body.replace(/\n10\n/, '\n11\n');
    expect((await witness.addCheckpoint(tampered)).status).toBe(403);

    const foreign = formatAddCheckpoint({
      oldSize: 0,
      proof: [],
      note: checkpointNote({ ...signed(log, 10), origin: 'another.example/log' }, createPublicKey(LOG_KEY)),
    });
    expect((await witness.addCheckpoint(foreign)).status).toBe(404);
    expect(state.states.size).toBe(0);
  });

  it('answers 400 to malformed requests and to an old size beyond the checkpoint, 422 to a bad proof', async () => {
    for (const body of [
      '',
      'old 0\n',
      'new 0\n\nx',
      'old 01\n\n',
      `old 0\nnot base64\n\n${request(log, 0, 5).split('\n\n')[1]}`,
    ]) {
      expect((await witness.addCheckpoint(body)).status).toBe(400);
    }
    await witness.addCheckpoint(request(log, 0, 20));
    expect((await witness.addCheckpoint(request(log, 20, 20).replace('old 20', 'old 25'))).status).toBe(400);
    // A proof from size 0 must be empty.
    const withProof = request(log, 0, 20).replace(
      'old 0\n',
      `old 0\n${EMPTY_TREE_ROOT.toString('base64')}\n`,
    );
    const fresh = new Witness(
      { name: WITNESS_NAME, privateKey: WITNESS_KEY, vkey: WITNESS_VKEY },
      [parseVerifierKey(noteVerifierKey(ORIGIN, createPublicKey(LOG_KEY)), [NOTE_ED25519])],
      new MemoryState(),
    );
    expect((await fresh.addCheckpoint(withProof)).status).toBe(422);
    // A wrong hash in an otherwise well-formed proof.
    const proof = consistencyProof(log.tree, 20, 30);
    proof[0] = Buffer.alloc(32, 1);
    const bad = formatAddCheckpoint({
      oldSize: 20,
      proof,
      note: checkpointNote(signed(log, 30), createPublicKey(LOG_KEY)),
    });
    expect((await witness.addCheckpoint(bad)).status).toBe(422);
  });

  it('checks and records one request at a time per log: two racing extensions never roll it back', async () => {
    await witness.addCheckpoint(request(log, 0, 10));
    const answers = await Promise.all([
      witness.addCheckpoint(request(log, 10, 30)),
      witness.addCheckpoint(request(log, 10, 20)),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 409]);
    expect(state.states.get(ORIGIN)?.treeSize).toBe(30);
  });

  it('serves no checkpoint of a log it has not cosigned', async () => {
    expect((await witness.latest(originHash(ORIGIN))).status).toBe(404);
    expect((await witness.latest(originHash('another'))).status).toBe(404);
  });

  it('keeps a key of its own: the cosignature does not verify under another witness key', async () => {
    const answer = await witness.addCheckpoint(request(log, 0, 10));
    const [line] = parseSignatureLines(answer.body);
    const { publicKey } = generateKeyPairSync('ed25519');
    const impostor = parseCosignerKey(
      formatVerifierKey(WITNESS_NAME, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(publicKey)),
    );
    expect(
      checkCosignature(checkpointSigningInput(signed(log, 10)).toString('utf8'), line, impostor).status,
    ).toBe('other_key');
  });
});
