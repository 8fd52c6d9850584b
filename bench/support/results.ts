import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** The repository root: the nearest folder up from here whose package.json is Townhall's (works from src and dist). */
export function repositoryRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'townhall')
      return dir;
    if (dir === dirname(dir)) throw new Error('Cannot find the repository root');
  }
}

/** Writes `bench/results/<scenario>-<ISO timestamp>.json` (git-ignored) and returns its path relative to the root. */
export function writeResult(scenario: string, startedAt: Date, payload: unknown): string {
  const root = repositoryRoot();
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  return relative(root, file);
}
