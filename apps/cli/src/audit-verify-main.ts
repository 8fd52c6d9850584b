import { auditVerify } from './audit-verify';

/**
 * Entry point for `townhall audit verify …` (chosen by bin/townhall.js; `--help` still goes through
 * main.ts for the full help text). Exit 0 valid, 1 invalid, 2 usage.
 */
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

auditVerify(process.argv.slice(4)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`townhall audit verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
