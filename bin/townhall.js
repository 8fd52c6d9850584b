#!/usr/bin/env node
'use strict';
// The `townhall` command line. The TypeScript sources are compiled by `npm run build` into dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
// `audit verify`, `audit verify-consistency` and `witness` need none of the platform: they start without
// the command framework (help aside), so a regulator's machine runs them with no database, Redis or
// configuration.
const wantsHelp = args.includes('--help') || args.includes('-h');
const verifyOnly =
  args[0] === 'audit' && (args[1] === 'verify' || args[1] === 'verify-consistency') && !wantsHelp;
const witnessOnly = args[0] === 'witness' && !wantsHelp;
const main = join(
  __dirname,
  '..',
  'dist',
  'apps',
  'cli',
  'src',
  verifyOnly ? 'audit-verify-main.js' : witnessOnly ? 'witness-main.js' : 'main.js',
);
if (!existsSync(main)) {
  process.stderr.write('townhall: the command line is not built yet: run `npm run build` first.\n');
  process.exit(2);
}
require(main);
