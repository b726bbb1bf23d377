import { baseName, joinPath, parentOf, splitExtension } from '../../sync/model/path';
import type { Expectation, StoreEntry } from '../../sync/ports/ports';
import type { ConflictInfo } from '../../sync/replica/replica-status';
import type { DiskReplica } from './disk-replica';

export type ConflictChoice = 'mine' | 'theirs' | 'both';

/** How much of the copy is read at a time when its bytes replace the file. */
const PIECE = 1024 * 1024;

/**
 * Settles a conflict the way the user chose, with ordinary edits that replicate like any other,
 * so the conflict disappears on every replica (conflicts are conflict copies, nothing else):
 * - mine: the conflict copy is deleted, and the file is kept as it is on disk now (the winner, or
 *   what the user saved there, such as a completed merge);
 * - theirs: the copy's bytes replace the file (temp file, rename over it), then the copy is deleted;
 * - both: the copy is renamed to a normal name next to the file.
 * Every replaced or deleted version goes to the versions folder first, as the store always does,
 * and every step states what it expects on disk, so a save racing the resolution is not lost.
 */
export async function resolveConflict(disk: DiskReplica, conflict: ConflictInfo, choice: ConflictChoice): Promise<void> {
  const store = disk.store;
  const copy = await store.stat(conflict.copyPath);
  if (!copy || copy.type !== 'file') throw new ConflictGone(conflict.copyPath);
  const touched = [conflict.copyPath];
  if (choice === 'mine') {
    await store.remove(conflict.copyPath, expectationOf(copy));
    // The file may hold new bytes (a merge the user completed and saved): recorded in the same
    // step as the deleted copy, they are the version that supersedes both sides.
    touched.push(conflict.path);
  } else if (choice === 'theirs') {
    const current = await store.stat(conflict.path);
    const temp = await store.createTemp(conflict.path, copy.size);
    try {
      for (let at = 0; at < copy.size; at += PIECE)
        await temp.write(at, await store.read(conflict.copyPath, at, Math.min(PIECE, copy.size - at)));
      await store.commitTemp(temp, conflict.path, current ? expectationOf(current) : { kind: 'absent' }, {
        mtime: Date.now(),
        executable: copy.executable,
      });
    } catch (err) {
      await store.discardTemp(temp).catch(() => undefined);
      throw err;
    }
    await store.remove(conflict.copyPath, expectationOf(copy));
    touched.push(conflict.path);
  } else {
    const target = await freeName(disk, conflict);
    await store.rename(conflict.copyPath, target, expectationOf(copy));
    touched.push(target);
  }
  await disk.replica.scanPaths(touched);
}

export class ConflictGone extends Error {
  constructor(readonly copyPath: string) {
    super(`the conflict copy ${copyPath} is gone; the conflict may have been resolved elsewhere`);
    this.name = 'ConflictGone';
  }
}

function expectationOf(entry: StoreEntry): Expectation {
  return {
    kind: 'entry',
    type: entry.type,
    size: entry.size,
    mtime: entry.mtime,
    ...(entry.target !== undefined ? { target: entry.target } : {}),
  };
}

/** `notes (bob).txt`, or `notes (bob 2).txt` and on when taken: a name no replica reads as a conflict copy. */
async function freeName(disk: DiskReplica, conflict: ConflictInfo): Promise<string> {
  const { stem, ext } = splitExtension(baseName(conflict.path));
  for (let n = 1; ; n++) {
    const name = `${stem} (${conflict.user}${n > 1 ? ` ${n}` : ''})${ext}`;
    const path = joinPath(parentOf(conflict.path), name);
    const record = disk.replica.record(path);
    if ((record === undefined || record.deleted) && (await disk.store.stat(path)) === undefined) return path;
  }
}
