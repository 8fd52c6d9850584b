import { auditVerify, auditVerifyConsistency } from './audit-verify';

/**
 * Entry point for `townhall audit verify …` and `townhall audit verify-consistency …` (chosen by
 * bin/townhall.js; `--help` still goes through main.ts for the full help text). Exit 0 valid, 1
 * invalid, 2 usage.
 */
// A reader that stops early (`| head`) is not an error; any other failure to write the verdict (a full
// disk, say) is: exit 2, not the 1 that means "not valid".
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`townhall audit verify: cannot write the result: ${err.message}\n`);
  process.exit(2);
});
process.stderr.on('error', () => process.exit(process.exitCode ?? 2));

const command = process.argv[3] === 'verify-consistency' ? auditVerifyConsistency : auditVerify;
command(process.argv.slice(4)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // runVerifyCommand reports every problem of the bundle and of reading it itself; this is a bug.
    process.stderr.write(
      `townhall audit ${process.argv[3]}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
