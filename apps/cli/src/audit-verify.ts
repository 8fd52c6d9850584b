import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  runVerifyCommand,
  runVerifyConsistencyCommand,
  type VerifyCommandIo,
} from '@townhall/compliance/verify';
import { visibleLines } from '@townhall/core/text';

/**
 * `townhall audit verify ARGS` with the process's files and streams; resolves to the exit status. It
 * needs no configuration, database or network — and loads none of the platform, so bin/townhall.js
 * runs it without the command framework (see audit-verify-main.ts): a regulator's machine starts
 * verifying in a tenth of a second.
 */
export function auditVerify(argv: readonly string[]): Promise<number> {
  return runVerifyCommand(argv, processIo());
}

/** `townhall audit verify-consistency ARGS`, likewise without the platform. */
export function auditVerifyConsistency(argv: readonly string[]): Promise<number> {
  return runVerifyConsistencyCommand(argv, processIo());
}

function processIo(): VerifyCommandIo {
  return {
    readFile: (path) => readFile(path, 'utf8'),
    // Large reads: fewer, bigger chunks for the verifier to cut into blocks.
    openBundle: (path) => createReadStream(path, { highWaterMark: 1 << 20 }),
    // A bundle is a file from elsewhere: what the verifier quotes from it must not steer the terminal.
    stdout: (line) => process.stdout.write(`${visibleLines(line)}\n`),
    stderr: (line) => process.stderr.write(`${visibleLines(line)}\n`),
  };
}
