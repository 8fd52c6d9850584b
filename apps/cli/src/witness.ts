import { readFile } from 'node:fs/promises';
import { runWitnessCommand } from '@townhall/compliance/witness';
import { visibleLines } from '@townhall/core/text';

/**
 * `townhall witness ARGS` with the process's files, streams and signals; resolves to the exit status
 * once the witness stopped. Like `audit verify`, it loads none of the platform: bin/townhall.js runs it
 * without the command framework (see witness-main.ts), and it needs no database or Redis.
 */
export function witness(argv: readonly string[]): Promise<number> {
  return runWitnessCommand(argv, {
    readFile: (path) => readFile(path, 'utf8'),
    // What a request put into a log line must not steer the terminal.
    stdout: (line) => process.stdout.write(`${visibleLines(line)}\n`),
    stderr: (line) => process.stderr.write(`${visibleLines(line)}\n`),
    stopped: () =>
      new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      }),
  });
}
