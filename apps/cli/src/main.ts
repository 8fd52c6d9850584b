import 'reflect-metadata';
import { EXIT_FAILED, reportError } from './cli-output';
import { runTownhall } from './townhall-cli';

/**
 * `townhall`: the operator's command line (started by bin/townhall.js). Exit status 0 on success, 1 when
 * the operation failed, 2 for a wrong command line or configuration.
 */

// `townhall tenants list --json | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

function finish(code: number): void {
  process.exitCode = code;
  // Once the embedded PostgreSQL package is loaded, its exit hook ends the process with
  // process.exit(0) when the event loop empties; the command's own exit status must win.
  process.on('exit', () => {
    process.exitCode = code;
  });
  // Everything is closed, so the process ends by itself; if a stray handle keeps it alive, do not hang.
  setTimeout(() => process.exit(code), 5000).unref();
}

runTownhall(process.argv).then(finish, (err: unknown) => finish(reportError(err) || EXIT_FAILED));
