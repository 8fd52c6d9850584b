import { createPublicKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@townhall/core';
import { rawEd25519PublicKey } from '../../audit-keys';
import { checkpointNote, checkpointSigningInput, signCheckpoint } from '../../checkpoint';
import { InMemoryAuditLog } from '../../in-memory-audit-log';
import { consistencyProof } from '../../merkle';
import { ed25519FromSeed, entryInput } from '../../testing/audit-log-fixture';
import { cosign } from '../../witness/cosignature';
import { formatSignatureLine, formatVerifierKey, NOTE_COSIGNATURE_V1 } from '../../witness/signed-note';
import { postAddCheckpoint, type WitnessResponse } from './witness-client';
import { WitnessSubmission } from './witness-submission';

jest.mock('./witness-client');

/**
 * The submission's decisions for each answer a witness can give, with the database and HTTP mocked
 * (test/e2e/audit-witness.test.ts runs them for real): what is stored, what is scheduled, how loud.
 */
const ORIGIN = 'townhall.test/audit';
const LOG_KEY = ed25519FromSeed('submission spec log');
const WITNESS_KEY = ed25519FromSeed('submission spec witness');
const NAME = 'witness.test/w1';
const VKEY = formatVerifierKey(NAME, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(WITNESS_KEY));

const log = new InMemoryAuditLog(ORIGIN);
for (let seq = 0; seq < 30; seq++) log.append(entryInput(seq));
const checkpoint = signCheckpoint(
  { origin: ORIGIN, treeSize: 30, rootHash: log.tree.root(30), time: '2025-02-01T00:00:00.000Z' },
  LOG_KEY,
);
const text = checkpointSigningInput(checkpoint).toString('utf8');
const post = jest.mocked(postAddCheckpoint);

function setup(cosignedSize: number | null) {
  const rows = {
    register: jest.fn().mockResolvedValue(undefined),
    claim: jest.fn().mockResolvedValue({ cosignedSize }),
    learnSize: jest.fn().mockResolvedValue(undefined),
    succeeded: jest.fn().mockResolvedValue(undefined),
    failed: jest.fn().mockResolvedValue(undefined),
    release: jest.fn().mockResolvedValue(undefined),
    insertCosignature: jest.fn().mockResolvedValue(undefined),
  };
  const repository = {
    newestCheckpoint: jest.fn().mockResolvedValue(checkpoint),
    withSubtrees: jest.fn((_m: unknown, _size: number, compute: (nodes: unknown) => unknown) =>
      Promise.resolve(compute(log.tree)),
    ),
  };
  const notes = { note: jest.fn().mockResolvedValue(checkpointNote(checkpoint, createPublicKey(LOG_KEY))) };
  const owner = { dataSource: jest.fn().mockResolvedValue('owner') };
  const config = loadConfig({
    TOWNHALL_AUDIT_WITNESSES: `${VKEY} http://witness.test`,
    TOWNHALL_AUDIT_WITNESS_RETRY_MS: '300',
  });
  const submission = new WitnessSubmission(
    'app' as never,
    repository as never,
    rows as never,
    notes as never,
    owner as never,
    config,
  );
  return { rows, submission };
}

const answer = (status: number, body: string, contentType = 'text/plain'): WitnessResponse => ({
  status,
  body,
  contentType,
});
const cosignatureLine = (key = WITNESS_KEY, name = NAME) =>
  formatSignatureLine(cosign(text, name, key, 1_738_368_000));

describe('WitnessSubmission', () => {
  let errors: jest.SpyInstance;
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    post.mockReset();
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('sends the checkpoint with a proof from the size the witness holds, and stores its verified cosignature as the owner', async () => {
    const { rows, submission } = setup(12);
    post.mockResolvedValueOnce(answer(200, cosignatureLine()));
    await submission.run(new AbortController().signal);
    const body = post.mock.calls[0][1];
    expect(body.startsWith('old 12\n')).toBe(true);
    expect(body.split('\n\n')[0].split('\n')).toHaveLength(1 + consistencyProof(log.tree, 12, 30).length);
    expect(rows.insertCosignature).toHaveBeenCalledWith(
      'owner',
      checkpoint,
      expect.objectContaining({ name: NAME, timestamp: 1_738_368_000 }),
    );
    expect(rows.succeeded).toHaveBeenCalledWith('app', NAME, 30);
  });

  it('follows a 409 once: the witness’s size is remembered and the proof made from it', async () => {
    const { rows, submission } = setup(null);
    post
      .mockResolvedValueOnce(answer(409, '20\n', 'text/x.tlog.size'))
      .mockResolvedValueOnce(answer(200, cosignatureLine()));
    await submission.run(new AbortController().signal);
    expect(post.mock.calls.map((c) => c[1].split('\n')[0])).toEqual(['old 0', 'old 20']);
    expect(rows.learnSize).toHaveBeenCalledWith('app', NAME, 20);
    expect(rows.succeeded).toHaveBeenCalled();
  });

  it('treats a witness that holds a larger tree than the log as an alarm, not as a network hiccup', async () => {
    const { rows, submission } = setup(null);
    post.mockResolvedValueOnce(answer(409, '45\n', 'text/x.tlog.size'));
    await submission.run(new AbortController().signal);
    expect(post).toHaveBeenCalledTimes(1);
    expect(rows.failed).toHaveBeenCalledWith(
      'app',
      NAME,
      expect.stringMatching(/has cosigned tree size 45 .*beyond this log's newest checkpoint 30/),
      300,
      900_000,
    );
    expect(errors).toHaveBeenCalled();
  });

  it('reports a refused proof (422) as a possible split view, and a refused signature (403) as configuration', async () => {
    const split = setup(12);
    post.mockResolvedValueOnce(answer(422, 'inconsistent\n'));
    await split.submission.run(new AbortController().signal);
    expect(split.rows.failed.mock.calls[0][2]).toMatch(/422.*split view or rewritten history/);
    expect(errors).toHaveBeenCalledTimes(1);

    const key = setup(12);
    post.mockResolvedValueOnce(answer(403, 'no signature of a key this witness trusts\n'));
    await key.submission.run(new AbortController().signal);
    expect(key.rows.failed.mock.calls[0][2]).toMatch(
      /does not accept the log's signature \(403\).*verifier-keys/,
    );
    expect(warnings).toHaveBeenCalled();
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('stores no cosignature that does not verify, and ignores lines of other keys', async () => {
    const forged = setup(12);
    const line = cosignatureLine();
    const blob = Buffer.from(line.split(' ')[2], 'base64');
    blob[40] ^= 1;
    post.mockResolvedValueOnce(answer(200, `\u2014 ${NAME} ${blob.toString('base64')}\n`));
    await forged.submission.run(new AbortController().signal);
    expect(forged.rows.insertCosignature).not.toHaveBeenCalled();
    expect(forged.rows.failed.mock.calls[0][2]).toMatch(/invalid cosignature/);

    const other = setup(12);
    post.mockResolvedValueOnce(
      answer(200, cosignatureLine(ed25519FromSeed('someone else'), 'witness.test/w9')),
    );
    await other.submission.run(new AbortController().signal);
    expect(other.rows.insertCosignature).not.toHaveBeenCalled();
    expect(other.rows.failed.mock.calls[0][2]).toMatch(/without a cosignature of its configured key/);
  });

  it('retries later when the witness cannot be reached, and gives the witness back untouched when stopping', async () => {
    const down = setup(12);
    post.mockRejectedValueOnce(
      new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:7380') }),
    );
    await down.submission.run(new AbortController().signal);
    expect(down.rows.failed.mock.calls[0][2]).toMatch(
      /could not be reached: fetch failed \(connect ECONNREFUSED/,
    );

    const stopping = setup(12);
    const abort = new AbortController();
    post.mockImplementationOnce(() => {
      abort.abort();
      return Promise.reject(new DOMException('aborted', 'AbortError'));
    });
    await stopping.submission.run(abort.signal);
    expect(stopping.rows.release).toHaveBeenCalledWith('app', NAME);
    expect(stopping.rows.failed).not.toHaveBeenCalled();
  });

  it('leaves alone a witness that already cosigned the newest checkpoint, or that another process holds', async () => {
    const done = setup(30);
    const cosigned = {
      ...checkpoint,
      cosignatures: [{ name: NAME, signature: cosignatureLine().split(' ')[2].trim() }],
    };
    (
      done.submission as unknown as { log: { newestCheckpoint: jest.Mock } }
    ).log.newestCheckpoint.mockResolvedValue(cosigned);
    await done.submission.run(new AbortController().signal);
    expect(done.rows.claim).not.toHaveBeenCalled();

    const held = setup(12);
    held.rows.claim.mockResolvedValue(undefined);
    await held.submission.run(new AbortController().signal);
    expect(post).not.toHaveBeenCalled();
  });
});
