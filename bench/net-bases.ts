import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { waitFor } from '../test/integration/disk-cluster';
import { NetWorld } from '../test/integration/net-cluster';
import { duBytes, treeBytes } from './net-data';

/**
 * Disk kept beside a folder for merge bases, for a real tree of text: an installed node_modules
 * (this checkout's, its native binaries left out) that alice's daemon shares. Her bases are
 * weighed once her first scan is done and her store has stopped growing; bob's daemon does not
 * run: on a shared 2-core machine his first sync of 18,000 files took longer than a bench run
 * should, and the side that indexed the files keeps a base for each as well.
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
  /** alice's merge-base store: files' sizes (du -sb) and disk blocks taken (du). */
  readonly store: { apparent: number; allocated: number };
  /** Of that, the bases/ folder alone, where the store keeps them today (0 once it keeps them elsewhere). */
  readonly basesDir: number;
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
    await waitFor('alice to index the tree', () => /full scan done/.test(world.log('alice')), 1_200_000);
    const stateDir = nodePath.join(world.home('alice'), 'state', space);
    // Bases may be written after the scan reports: weigh the store once it has not grown for 5 s.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(
      "alice's merge-base store to stop growing",
      () => {
        const now = mergeBaseStoreBytes(stateDir).apparent;
        if (now !== last) {
          last = now;
          stableSince = Date.now();
        }
        return Date.now() - stableSince >= 5000;
      },
      600_000,
    );
    return {
      tree: `${source} without ${[...LEFT_OUT].join(', ')}`,
      folderBytes: target.bytes,
      files: target.files,
      store: mergeBaseStoreBytes(stateDir),
      basesDir: duBytes(nodePath.join(stateDir, 'bases')).apparent,
    };
  } finally {
    await world.close();
  }
}
