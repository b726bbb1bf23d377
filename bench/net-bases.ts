import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { NetWorld } from '../test/integration/net-cluster';
import { duBytes, treeBytes } from './net-data';

/**
 * Disk kept beside a folder for merge bases, for a real tree of text: an installed node_modules
 * (this checkout's, its native binaries left out) shared by alice and synced to bob.
 *
 * Measured from the files on disk, not through the store's API, so it holds however the store
 * keeps its bases: everything in the space's state folder except the state journal (`state*`)
 * and the mailbox bookkeeping (`mail*`).
 */

/** Top-level entries of node_modules left out: executables' links and native binaries, not text. */
const LEFT_OUT = new Set(['.bin', '.cache', '@esbuild', '@unrs', 'esbuild', 'better-sqlite3']);

export interface BasesFigures {
  readonly tree: string;
  readonly folderBytes: number;
  readonly files: number;
  /** Merge-base store bytes on each side: files' sizes (du -sb) and disk blocks taken (du). */
  readonly alice: { apparent: number; allocated: number };
  readonly bob: { apparent: number; allocated: number };
  /** Of that, the bases/ folder alone, where the store keeps them today (0 once it keeps them elsewhere). */
  readonly aliceBasesDir: number;
  readonly bobBasesDir: number;
}

/** Bytes of the state folder that are neither the journal nor mailbox bookkeeping. */
export function mergeBaseStoreBytes(stateDir: string): { apparent: number; allocated: number } {
  const total = { apparent: 0, allocated: 0 };
  if (!fs.existsSync(stateDir)) return total;
  for (const name of fs.readdirSync(stateDir)) {
    if (name.startsWith('state') || name.startsWith('mail')) continue;
    const du = duBytes(nodePath.join(stateDir, name));
    total.apparent += du.apparent;
    total.allocated += du.allocated;
  }
  return total;
}

export async function mergeBases(): Promise<BasesFigures> {
  const source = fs.realpathSync(nodePath.resolve(__dirname, '../../node_modules'));
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    fs.cpSync(source, nodePath.join(world.folder('a'), 'pkgs'), {
      recursive: true,
      filter: (src) => {
        if (nodePath.dirname(src) === source && LEFT_OUT.has(nodePath.basename(src))) return false;
        return !fs.lstatSync(src).isSymbolicLink();
      },
    });
    const target = treeBytes(world.folder('a'));
    world.start('alice');
    await waitFor('alice to index the tree', () => /full scan done/.test(world.log('alice')), 600_000);
    world.start('bob');
    await waitFor(
      'bob to have the tree',
      () => {
        const t = treeBytes(world.folder('b'));
        return t.files === target.files && t.bytes === target.bytes;
      },
      1_800_000,
    );
    await sleep(3000);
    const stateDir = (who: string): string => nodePath.join(world.home(who), 'state', space);
    return {
      tree: `${source} without ${[...LEFT_OUT].join(', ')}`,
      folderBytes: target.bytes,
      files: target.files,
      alice: mergeBaseStoreBytes(stateDir('alice')),
      bob: mergeBaseStoreBytes(stateDir('bob')),
      aliceBasesDir: duBytes(nodePath.join(stateDir('alice'), 'bases')).apparent,
      bobBasesDir: duBytes(nodePath.join(stateDir('bob'), 'bases')).apparent,
    };
  } finally {
    await world.close();
  }
}
