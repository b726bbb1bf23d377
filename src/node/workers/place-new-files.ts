import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { errnoOf } from '../disk/disk-errors';
import { fsyncDirectory } from '../disk/durable-write';
import { failureOf, type PlaceFailure, type PlaceJob } from './fs-worker-protocol';

/**
 * Renames sealed temp files to paths where nothing is expected yet (the files of a first sync),
 * with the checks DiskStore makes for each commit: every folder on the way is a real folder (a
 * symlink there could lead the write out of the shared folder), and nothing is at the path
 * (whatever a user put there meanwhile is theirs). Then each folder a file went into is synced
 * once, so every rename is durable when this resolves. Run in a file system worker: a batch
 * costs the engine's thread one message instead of four calls a file.
 */
export async function placeNewFiles(root: string, jobs: readonly PlaceJob[]): Promise<(PlaceFailure | null)[]> {
  const folders = new Set<string>();
  const results = jobs.map((job) => {
    const result = placeOne(root, job);
    if (result === null) folders.add(nodePath.dirname(nodePath.join(root, ...job.path.split('/'))));
    return result;
  });
  await Promise.all([...folders].map(fsyncDirectory));
  return results;
}

function placeOne(root: string, job: PlaceJob): PlaceFailure | null {
  const segments = job.path.split('/');
  let abs = root;
  for (let i = 0; i < segments.length - 1; i++) {
    abs = nodePath.join(abs, segments[i]!);
    const dir = segments.slice(0, i + 1).join('/');
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return { reason: 'parentMissing', dir };
      return { reason: 'failed', failure: failureOf(err) };
    }
    if (!st.isDirectory()) return { reason: 'parentNotDirectory', dir };
  }
  const target = nodePath.join(abs, segments[segments.length - 1]!);
  try {
    // Checked right before the rename, as DiskStore's commit does.
    if (fs.lstatSync(target, { throwIfNoEntry: false }) !== undefined) return { reason: 'exists' };
    fs.renameSync(job.from, target);
    return null;
  } catch (err) {
    return { reason: 'failed', failure: failureOf(err) };
  }
}
