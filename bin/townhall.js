#!/usr/bin/env node
'use strict';
// The `townhall` command line. The TypeScript sources are compiled by `npm run build` into dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('townhall: the command line is not built yet: run `npm run build` first.\n');
  process.exit(2);
}
require(main);
