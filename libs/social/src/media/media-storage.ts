import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where media files live, addressed by key (`<tenant id>/<media id>/<token>/<variant>.<ext>`). Local disk
 * first; an S3-compatible store implements the same three operations.
 */
export abstract class MediaStorage {
  abstract put(key: string, data: Buffer): Promise<void>;
  /** Stores the file at `path` (a processed video) under `key`. */
  abstract putFile(key: string, path: string): Promise<void>;
  /**
   * The file's bytes as a stream and its whole size, or null when there is no such file; with `range`,
   * only the bytes from `start` to `end` (inclusive), as a caller checked them against the size.
   */
  abstract read(
    key: string,
    range?: (size: number) => { start: number; end: number } | null,
  ): Promise<{ stream: Readable; size: number; range: { start: number; end: number } | null } | null>;
  /** Removes every file whose key starts with `prefix/` (a media attachment's variants). */
  abstract removeAll(prefix: string): Promise<void>;
  /** Removes one file; no such file is no error. */
  abstract remove(key: string): Promise<void>;
  /**
   * The folders below `prefix` (the root when empty; `<tenant id>`; `<tenant id>/<media id>`) with the
   * time they last changed, for the sweep of files no attachment names.
   */
  abstract list(prefix: string): Promise<{ name: string; changedAt: Date }[]>;
}

const KEY = /^[0-9a-f-]{1,64}\/\d{1,19}\/[0-9a-f]{16,64}(\/(original|small|upload)\.[a-z0-9]{2,5})?$/;
const LIST_PREFIX = /^$|^\d{1,19}$|^\d{1,19}\/\d{1,19}$/;

export function checkMediaKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`Not a media key: ${JSON.stringify(key)}`);
  return key;
}

/**
 * Media on the local file system under one root (TOWNHALL_MEDIA_ROOT). Files are written to a temporary
 * name, synced and renamed, so a reader never sees half a file and a crash leaves no torn one. Keys are
 * checked against one pattern before they touch a path, so no key can leave the root.
 */
export class LocalDiskMediaStorage extends MediaStorage {
  constructor(private readonly root: string) {
    super();
  }

  async put(key: string, data: Buffer): Promise<void> {
    const path = join(this.root, checkMediaKey(key));
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    const file = await open(partial, 'w', 0o640);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, path);
  }

  async putFile(key: string, source: string): Promise<void> {
    const path = join(this.root, checkMediaKey(key));
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    await copyFile(source, partial);
    const file = await open(partial, 'r');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, path);
  }

  async read(
    key: string,
    range?: (size: number) => { start: number; end: number } | null,
  ): Promise<{ stream: Readable; size: number; range: { start: number; end: number } | null } | null> {
    const path = join(this.root, checkMediaKey(key));
    try {
      const { size } = await stat(path);
      const part = range?.(size) ?? null;
      return { stream: createReadStream(path, part ?? {}), size, range: part };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async removeAll(prefix: string): Promise<void> {
    const path = join(this.root, checkMediaKey(prefix));
    await rm(path, { recursive: true, force: true });
    // The media id's folder goes too once its last token folder is gone.
    await rmdir(dirname(path)).catch(() => undefined);
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.root, checkMediaKey(key)), { force: true });
  }

  async list(prefix: string): Promise<{ name: string; changedAt: Date }[]> {
    if (!LIST_PREFIX.test(prefix)) throw new Error(`Not a media folder: ${JSON.stringify(prefix)}`);
    const dir = join(this.root, prefix);
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found: { name: string; changedAt: Date }[] = [];
    for (const name of names) {
      const info = await stat(join(dir, name)).catch(() => null);
      if (info) found.push({ name, changedAt: info.mtime });
    }
    return found;
  }
}
