import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where media files live, addressed by key (`<tenant id>/<media id>/<token>/<variant>.<ext>`). Local disk
 * first; an S3-compatible store implements the same three operations.
 */
export abstract class MediaStorage {
  abstract put(key: string, data: Buffer): Promise<void>;
  /** The file's bytes as a stream and its size, or null when there is no such file. */
  abstract read(key: string): Promise<{ stream: Readable; size: number } | null>;
  /** Removes every file whose key starts with `prefix/` (a media attachment's variants). */
  abstract removeAll(prefix: string): Promise<void>;
}

const KEY = /^[0-9a-f-]{1,64}\/\d{1,19}\/[0-9a-f]{16,64}(\/(original|small)\.[a-z0-9]{2,5})?$/;

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

  async read(key: string): Promise<{ stream: Readable; size: number } | null> {
    const path = join(this.root, checkMediaKey(key));
    try {
      const { size } = await stat(path);
      return { stream: createReadStream(path), size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async removeAll(prefix: string): Promise<void> {
    await rm(join(this.root, checkMediaKey(prefix)), { recursive: true, force: true });
  }
}
