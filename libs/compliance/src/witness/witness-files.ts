import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { rawEd25519PublicKey } from '../audit-keys';
import { NOTE_COSIGNATURE_V1, formatVerifierKey, isKeyName } from './signed-note';

/**
 * The witness's own files, in one directory it alone uses (a lock file with its process id keeps a
 * second witness out):
 *
 *   witness.key          its Ed25519 private key (PKCS #8 PEM, readable by its user only)
 *   witness.json         {"name": …}: the name is part of the key ID, so it is fixed with the key
 *   logs/<sha256 of origin, hex>.json
 *                        the last checkpoint it cosigned for each log: origin, size, root, and the note
 *                        with the log's signatures and its own cosignature
 *   refused/<sha256 of origin, hex>/…
 *                        requests correctly signed by a log but inconsistent with what it had seen: the
 *                        evidence of a split view or a rewritten history
 *
 * Every file is written whole under a temporary name, flushed, and renamed over the old one, and the
 * directory is flushed: a crash leaves the old state or the new one, never a torn file, and nothing is
 * answered before the new state is on disk.
 */

export interface WitnessedCheckpoint {
  origin: string;
  treeSize: number;
  /** Base64. */
  rootHash: string;
  /** The checkpoint as cosigned: note text, the log's verified signatures and the witness's cosignature. */
  note: string;
  /** When it was cosigned (RFC 3339). */
  cosignedAt: string;
}

export interface WitnessIdentity {
  name: string;
  privateKey: KeyObject;
  /** The verifier key the platform and regulators configure: `<name>+<key ID>+base64(0x04 || key)`. */
  vkey: string;
}

/** Whatever keeps the witness's state; `WitnessFiles` on disk. */
export interface WitnessState {
  read(origin: string): Promise<WitnessedCheckpoint | null>;
  write(state: WitnessedCheckpoint): Promise<void>;
  keepRefused(origin: string, request: string, why: string): Promise<void>;
}

/** At most this many refused requests are kept per log: a log can only fill the disk with its own key. */
const MAX_REFUSED_PER_LOG = 1000;

export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

export class WitnessFiles implements WitnessState {
  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
  ) {}

  /** Directories this process holds (a lock file with our own pid could be a leftover, see below). */
  private static readonly held = new Set<string>();

  /** Takes the directory (creating it), refusing one another running witness holds. */
  static async open(dir: string): Promise<WitnessFiles> {
    await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
    const lockPath = resolve(dir, 'witness.lock');
    if (WitnessFiles.held.has(lockPath))
      throw new Error(`another witness (process ${process.pid}) is using ${dir}`);
    for (let attempt = 0; ; attempt++) {
      const taken = await open(lockPath, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST' || attempt > 0) throw err;
        return null;
      });
      if (taken) {
        await taken.writeFile(`${process.pid}\n`);
        await taken.close();
        WitnessFiles.held.add(lockPath);
        return new WitnessFiles(dir, lockPath);
      }
      const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      // A pid equal to ours is a leftover from an earlier life of this process id (a container, say).
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder)) {
        throw new Error(`another witness (process ${holder}) is using ${dir}`);
      }
      // Left behind by a witness that did not stop cleanly.
      await unlink(lockPath).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await unlink(this.lockPath).catch(() => undefined);
    WitnessFiles.held.delete(this.lockPath);
  }

  /**
   * The witness's key and name: generated on the first start (which needs `name`), read afterwards. A
   * different `name` later is refused, since it would change the key ID everyone configured.
   */
  async identity(name: string | null): Promise<WitnessIdentity> {
    const existing = await WitnessFiles.readIdentity(this.dir, name);
    if (existing) return existing;
    if (name === null) throw new Error(`${this.dir} holds no witness key yet: give --name to create one`);
    if (!isKeyName(name)) throw new Error(`--name ${JSON.stringify(name)}: a key name has no spaces or "+"`);
    const { privateKey } = generateKeyPairSync('ed25519');
    await this.writeAtomically(join(this.dir, 'witness.json'), `${JSON.stringify({ name })}\n`);
    await this.writeAtomically(
      join(this.dir, 'witness.key'),
      privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    );
    return (await WitnessFiles.readIdentity(this.dir, name)) as WitnessIdentity;
  }

  /**
   * The identity in `dir`, or null when it has no key yet. Reads only, without the lock: a running
   * witness's key can be printed (`--print-key`) while it serves.
   */
  static async readIdentity(dir: string, name: string | null): Promise<WitnessIdentity | null> {
    const pem = await readFile(join(dir, 'witness.key'), 'utf8').catch(missingAsNull);
    if (pem === null) return null;
    const namePath = join(dir, 'witness.json');
    const stored = JSON.parse(await readFile(namePath, 'utf8')) as { name?: unknown };
    if (typeof stored.name !== 'string' || !isKeyName(stored.name))
      throw new Error(`${namePath} names no witness`);
    if (name !== null && name !== stored.name) {
      throw new Error(
        `this witness is ${stored.name}; its name is part of its verifier key, so it cannot become ${name} (use another --data-dir for another witness)`,
      );
    }
    const privateKey = createPrivateKey(pem);
    const vkey = formatVerifierKey(stored.name, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(privateKey));
    return { name: stored.name, privateKey, vkey };
  }

  async read(origin: string): Promise<WitnessedCheckpoint | null> {
    const text = await readFile(this.statePath(origin), 'utf8').catch(missingAsNull);
    if (text === null) return null;
    // A damaged state must stop the witness, not make it forget the log: forgetting is a rollback.
    const state = JSON.parse(text) as WitnessedCheckpoint;
    if (
      state.origin !== origin ||
      !Number.isSafeInteger(state.treeSize) ||
      typeof state.rootHash !== 'string' ||
      typeof state.note !== 'string'
    ) {
      throw new Error(`${this.statePath(origin)} is not the state of ${origin}`);
    }
    return state;
  }

  async write(state: WitnessedCheckpoint): Promise<void> {
    await this.writeAtomically(this.statePath(state.origin), `${JSON.stringify(state)}\n`);
  }

  async keepRefused(origin: string, request: string, why: string): Promise<void> {
    const dir = join(this.dir, 'refused', originHash(origin));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if ((await readdir(dir)).length >= MAX_REFUSED_PER_LOG) return;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.txt`;
    await this.writeAtomically(join(dir, name), `# ${why}\n${request}`);
  }

  private statePath(origin: string): string {
    return join(this.dir, 'logs', `${originHash(origin)}.json`);
  }

  private async writeAtomically(path: string, content: string): Promise<void> {
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    const dir = await open(join(path, '..'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function missingAsNull(err: unknown): null {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
  throw err;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
