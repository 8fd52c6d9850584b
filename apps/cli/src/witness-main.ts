import { witness } from './witness';

/**
 * Entry point for `townhall witness …` (chosen by bin/townhall.js; `--help` still goes through main.ts
 * for the full help text). Exit 0 after SIGTERM/SIGINT, 2 for a wrong command line or data directory.
 */
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

witness(process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`townhall witness: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
