/**
 * Peak RSS of a disk replica holding N file records (default 1,000,000), in a process of its own:
 * a child process commits the records to a state journal, then a replica opens on that state.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { DiskReplica } from '../src/node/disk/disk-replica';
import { DiskStore } from '../src/node/disk/disk-store';
import { writeRootIdentity } from '../src/node/disk/root-marker';
import { StateJournal } from '../src/node/disk/state/state-journal';
import type { FileRecord } from '../src/sync/model/file-record';
import { Prng } from '../test/sim/prng';
import { option } from './bench-args';

const RECORDS = Number(option('records', '1000000'));
const dir = option('dir', '/tmp/sf-bench-records');
/** The folder's marker and the state name the same root, so the replica opens on the records rather than setting them aside. */
const ROOT_ID = 'b1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Writes the state in a process of its own, so the peak measured below is the replica's alone. */
async function writeState(root: string): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  await DiskStore.initFolder(root);
  await writeRootIdentity(root, { space: '', root: ROOT_ID });
  const rng = new Prng(1);
  const state = await StateJournal.open(nodePath.join(dir, 'state', 'state'), { sync: 'none' });
  const BATCH = 10_000;
  for (let start = 0; start < RECORDS; start += BATCH) {
    const records: FileRecord[] = [];
    for (let i = start; i < Math.min(RECORDS, start + BATCH); i++) {
      const size = 1 + rng.int(30_000);
      records.push({
        path: `d${i % 1000}/sub${Math.floor(i / 1000) % 100}/file-${i}.txt`,
        type: 'file',
        deleted: false,
        size,
        mtime: 1_700_000_000_000 + i,
        executable: false,
        hash: rng.bytes(32),
        blocks: [{ hash: rng.bytes(32), size }],
        target: '',
        version: [{ id: 'a1b2c3d4e5f6a7b8c9d0e1f2', counter: 1_700_000_000 + i }],
        modifiedBy: 'bench',
        ancestor: new Uint8Array(0),
        sequence: i + 1,
        inode: 1000 + i,
      });
    }
    await state.commit({
      meta: {
        indexId: 'a1b2c3d4e5f6a7b8c9d0e1f2',
        sequence: start + records.length,
        counter: 1_700_000_000 + RECORDS,
        paused: false,
        rootId: ROOT_ID,
      },
      records,
    });
  }
  await state.close();
}

async function main(): Promise<void> {
  const root = nodePath.join(dir, 'folder');
  if (process.argv.includes('--write-only')) return writeState(root);
  let t = Date.now();
  const child = spawnSync(process.execPath, [__filename, ...process.argv.slice(2), '--write-only'], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`writing the state failed (${child.status ?? child.signal})`);
  const writeMs = Date.now() - t;
  const before = process.memoryUsage().rss;
  t = Date.now();
  const cpuBefore = process.cpuUsage();
  const disk = await DiskReplica.open({
    root,
    stateDir: nodePath.join(dir, 'state'),
    user: 'bench',
    watch: false,
    port: { send: () => undefined },
  });
  const openMs = Date.now() - t;
  // CPU time as well: on a shared machine the wall time also counts other processes' turns.
  const openCpu = process.cpuUsage(cpuBefore);
  const held = disk.replica.records().length;
  if (held !== RECORDS) throw new Error(`the replica holds ${held} records, not the ${RECORDS} written`);
  disk.replica.summary();
  const gcRss = (() => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  })();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `${held.toLocaleString()} records: state written in ${(writeMs / 1000).toFixed(1)} s, replica opened in ${(openMs / 1000).toFixed(1)} s ` +
      `(CPU ${((openCpu.user + openCpu.system) / 1e6).toFixed(1)} s; target 4 s); ` +
      `RSS before open ${mib(before)}, holding ${mib(gcRss)}, peak RSS ${mib(peak)} (target 600 MiB)`,
  );
  await disk.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
