#!/usr/bin/env node
'use strict';
// The `townhall` command line. The TypeScript sources are compiled by `npm run build` into dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
// `audit verify` and `audit verify-consistency` need none of the platform: they start without the
// command framework (help aside).
const verifyOnly =
  args[0] === 'audit' &&
  (args[1] === 'verify' || args[1] === 'verify-consistency') &&
  !args.includes('--help') &&
  !args.includes('-h');
const main = join(
  __dirname,
  '..',
  'dist',
  'apps',
  'cli',
  'src',
  verifyOnly ? 'audit-verify-main.js' : 'main.js',
);
if (!existsSync(main)) {
  process.stderr.write('townhall: the command line is not built yet: run `npm run build` first.\n');
  process.exit(2);
}
require(main);
