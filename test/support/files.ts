import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below `dir` (none when it does not exist), e.g. what a test's media root holds. */
export function filesBelow(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) (e.isDirectory() ? walk : (p: string) => found.push(p))(join(d, e.name));
  };
  walk(dir);
  return found;
}
