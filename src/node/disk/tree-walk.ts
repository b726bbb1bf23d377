import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { StoreEntry } from '../../sync/ports/ports';
import { isInternalPath, joinPath } from '../../sync/model/path';
import { entryFromStats } from './disk-entry';
import type { IgnoreRules } from './ignore-rules';

/**
 * Every shareable entry strictly below `under` in the folder at `root`, parents before children,
 * without following symlinks and without descending into ignored or internal directories.
 * Synchronous on purpose: it runs in a worker thread, where sync calls are the fastest way to
 * lstat a hundred thousand files.
 */
export function walkTree(root: string, under: string, rules: IgnoreRules): StoreEntry[] {
  const out: StoreEntry[] = [];
  const visit = (dir: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(nodePath.join(root, dir));
    } catch {
      return; // vanished or unreadable meanwhile; the next scan sees what became of it
    }
    names.sort();
    for (const name of names) {
      const path = joinPath(dir, name);
      if (isInternalPath(path)) continue;
      const abs = nodePath.join(root, path);
      let entry: StoreEntry | undefined;
      try {
        entry = entryFromStats(path, fs.lstatSync(abs, { bigint: true }), () => fs.readlinkSync(abs));
      } catch {
        continue;
      }
      if (!entry || rules.ignores(path, entry.type === 'directory')) continue;
      out.push(entry);
      if (entry.type === 'directory') visit(path);
    }
  };
  visit(under);
  return out;
}
