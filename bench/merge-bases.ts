/**
 * `npm run bench:merge-bases`: the disk a replica keeps beside a folder for merge bases, as a
 * share of the folder. A copy of a real tree (by default this repository's node_modules without
 * its native binaries: @esbuild, @unrs, better-sqlite3) becomes a shared folder; a disk replica
 * scans it and keeps its bases until there are no more to keep; then the bases folder is weighed
 * by the blocks it takes on the disk (`du`), against the bytes of the folder's files.
 *
 * Options: --tree PATH, --exclude a,b,c (top-level names of the tree left out), --keep.
 * `measureMergeBaseDisk` is exported for bench/net.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { DiskReplica } from '../src/node/disk/disk-replica';
import { DiskStore, MARKER_DIR } from '../src/node/disk/disk-store';
import { option } from './bench-args';

export interface MergeBaseDisk {
  /** Bytes of the folder's files (their sizes, as `du --apparent-size` counts them). */
  readonly folderBytes: number;
  /** Bytes the bases folder takes on the disk (allocated blocks, as `du` counts them). */
  readonly baseBytes: number;
  /** The bases' own sizes, without block rounding. */
  readonly baseApparentBytes: number;
  /** Files in the folder. */
  readonly files: number;
}

/** Sizes of a tree: its files' bytes, the blocks they take, and how many there are. */
export function treeUsage(
  dir: string,
  skip: (name: string, top: boolean) => boolean = () => false,
): { bytes: number; blocks: number; files: number } {
  let bytes = 0;
  let blocks = 0;
  let files = 0;
  const walk = (d: string, top: boolean): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (skip(e.name, top)) continue;
      const p = nodePath.join(d, e.name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile()) {
        const st = fs.lstatSync(p);
        bytes += st.size;
        blocks += st.blocks * 512;
        files++;
      }
    }
  };
  walk(dir, true);
  return { bytes, blocks, files };
}

/**
 * Copies `tree` (less the top-level names in `exclude`) into a temp folder, shares it with one
 * disk replica, lets the replica keep every merge base it wants, and weighs the bases folder.
 * The temp folder is removed unless `keepDir` is given, in which case it is used and kept.
 */
export async function measureMergeBaseDisk(
  tree: string,
  options: { exclude?: readonly string[]; keepDir?: string } = {},
): Promise<MergeBaseDisk> {
  const dir = options.keepDir ?? fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-bench-bases-'));
  const root = nodePath.join(dir, 'folder');
  const stateDir = nodePath.join(dir, 'state');
  const excluded = new Set(options.exclude ?? []);
  const source = fs.realpathSync(tree);
  try {
    fs.cpSync(source, root, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => {
        const rel = nodePath.relative(source, src);
        return rel === '' || !(excluded.has(rel) || rel.startsWith(MARKER_DIR));
      },
    });
    await DiskStore.initFolder(root);
    const disk = await DiskReplica.open({
      root,
      stateDir,
      user: 'bench',
      watch: false,
      stateSync: 'none',
      port: { send: () => undefined },
    });
    try {
      await disk.scan();
      // Bases are kept a budget at a time on each tick: tick until a tick keeps none.
      let before = -1;
      for (;;) {
        await disk.replica.tick();
        const now = (await disk.store.listBases()).length;
        if (now === before) break;
        before = now;
      }
    } finally {
      await disk.close();
    }
    const folder = treeUsage(root, (name, top) => top && name.startsWith(MARKER_DIR));
    const bases = treeUsage(nodePath.join(stateDir, 'bases'));
    return { folderBytes: folder.bytes, baseBytes: bases.blocks, baseApparentBytes: bases.bytes, files: folder.files };
  } finally {
    if (options.keepDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const tree = option('tree', nodePath.join(__dirname, '..', '..', 'node_modules'));
  const exclude = option('exclude', '@esbuild,@unrs,better-sqlite3,.bin,.package-lock.json')
    .split(',')
    .filter((n) => n !== '');
  const keep = process.argv.includes('--keep') ? fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-bench-bases-')) : undefined;
  const started = Date.now();
  const m = await measureMergeBaseDisk(tree, { exclude, ...(keep ? { keepDir: keep } : {}) });
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  console.log(`tree ${tree} without ${exclude.join(', ') || 'nothing'}: ${m.files.toLocaleString()} files, ${mb(m.folderBytes)} MB`);
  console.log(
    `merge bases: ${mb(m.baseBytes)} MB on disk (${mb(m.baseApparentBytes)} MB of bytes); ` +
      `bases / folder = ${((100 * m.baseBytes) / m.folderBytes).toFixed(1)}% (goal <= 10%) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (keep) console.log(`kept in ${keep}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
