import { Readable } from 'node:stream';
import type { VerifyCommandIo } from '../verify-command';

/** `townhall audit verify`'s effects over an in-memory file system, with what it printed. */
export function verifyCommandIo(
  files: Record<string, string>,
  options: { stream?: boolean } = {},
): VerifyCommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const value: VerifyCommandIo & { out: string[]; err: string[] } = {
    out,
    err,
    readFile: async (path) => {
      if (!(path in files))
        throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return files[path];
    },
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
  };
  if (options.stream) value.openBundle = (path) => Readable.from([Buffer.from(files[path] ?? '')]);
  return value;
}
