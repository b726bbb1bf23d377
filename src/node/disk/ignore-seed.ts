import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { writeAtomic } from './durable-write';
import { IGNORE_FILE } from './ignore-rules';

/**
 * Starts a folder's `.sharedignore` with `patterns` unless it has one: the rules have to be the
 * same on every replica (the file syncs), or no two replicas would ever agree they are in sync.
 * Returns whether the file was written.
 */
export function seedIgnoreFile(root: string, patterns: readonly string[]): boolean {
  const rules = patterns.map((p) => p.trim()).filter((p) => p.length > 0);
  if (rules.some((p) => p.includes('\n') || p.includes('\r'))) throw new RangeError('an ignore pattern is one line');
  const file = nodePath.join(root, IGNORE_FILE);
  if (rules.length === 0 || fs.existsSync(file)) return false;
  writeAtomic(file, `${rules.join('\n')}\n`);
  return true;
}
